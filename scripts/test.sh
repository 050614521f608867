#!/usr/bin/env bash
# `npm test`: installs what the tests need when it is missing, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests drive (nats-server, coturn, Chromium, X and xev, xclip for the clipboard, xterm for the sample applications, PulseAudio and parec;
# the ffmpeg CLI only as the tests' own decoder: the product encodes in-process with node-av;
# bubblewrap for the instance sandbox and passt's pasta for its `network: outbound`, socat for the
# applications that probe it).
packages=(ffmpeg nats-server coturn chromium xvfb xdotool xclip xterm evemu-tools x11-utils pulseaudio pulseaudio-utils zip bubblewrap passt socat)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm dependencies: a clean clone has none; a changed lock file means they are stale.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

npm run build
# Style, and the module boundaries (a role never imports another role's files).
npm run lint
# In band: the suites spawn media processes and Chromium; two at once only compete for 2 CPUs.
npx jest --ci --runInBand
npx jest --ci --config test/jest-e2e.config.js --runInBand
