# streamstack: the whole stack in one image. Build: docker build -t streamstack .
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles its native addon when no prebuilt one matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
# Encoding is in-process (node-av ships FFmpeg's libraries); x11 instances need a display
# server, input injection, the clipboard, their sandbox and PulseAudio (parec records the
# application's sound, pacat plays the microphone); passt for `network: outbound`, evemu-tools
# for virtual gamepads (with /dev/uinput), xterm and socat for the sample applications.
RUN apt-get update && apt-get install -y --no-install-recommends tini xvfb xdotool xclip bubblewrap passt evemu-tools pulseaudio pulseaudio-utils xterm socat && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/examples ./examples
RUN useradd --system --create-home --home-dir /var/lib/streamstack streamstack
USER streamstack
ENV STREAMSTACK_HOST=0.0.0.0 STREAMSTACK_DATA_DIR=/var/lib/streamstack
VOLUME /var/lib/streamstack
EXPOSE 4000
# tini reaps the instances' child processes and forwards Ctrl-C/SIGTERM.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/src/main.js"]
CMD ["serve"]
