/**
 * streamstack benchmarks, all in one run: the monolith (every role in this process, in-process
 * transport, SQLite), loopback only, test-pattern instances at 1280x720@30, real headless
 * Chromium running the SDK-compatible test client (test/client/).
 *
 *   npm run bench                       # = ts-node -T -r tsconfig-paths/register bench/run.ts
 *
 * Environment (all optional):
 *   BENCH_SESSIONS=20        sessions for time to first frame
 *   BENCH_FRAMES=450         presented frames whose timestamp strip is read (latency)
 *   BENCH_RELAY_LATENCY=3000 round trips one at a time (relay latency)
 *   BENCH_RELAY_COUNT=30000  round trips with BENCH_RELAY_WINDOW in flight (relay throughput)
 *   BENCH_RELAY_WINDOW=64
 *   BENCH_ONLY=relay,ttff,latency   a subset
 *   BENCH_OUT=docs/benchmarks.md    where the report goes ("-" = stdout only)
 *
 * Prints a markdown report and writes it to BENCH_OUT.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_TOKEN, eventually, startApp } from '../test/support/app';
import { CHROMIUM_PATH, launchBrowser, serveClient } from '../test/support/browser';
import { client } from '../test/support/http';
import { testPatternManifest } from '../test/support/packages';
import { fmt, machine, quantile } from './lib';
import { benchRelay, RelayResults } from './relay';
import { benchLatency, benchTtff, LatencyResults, ServerProbe, TtffResults } from './streaming';

const SCREEN = { width: 1280, height: 720, fps: 30 };
const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const opts = {
  sessions: env('BENCH_SESSIONS', 20),
  frames: env('BENCH_FRAMES', 450),
  relayLatency: env('BENCH_RELAY_LATENCY', 3000),
  relayCount: env('BENCH_RELAY_COUNT', 30000),
  relayWindow: env('BENCH_RELAY_WINDOW', 64),
  only: new Set((process.env.BENCH_ONLY ?? 'relay,ttff,latency').split(',').map((s) => s.trim())),
  out: process.env.BENCH_OUT ?? join(__dirname, '..', 'docs', 'benchmarks.md'),
};
const COMMAND = 'npm run bench';
const COMMAND_LONG = 'npx ts-node -T -r tsconfig-paths/register bench/run.ts';

const started = Date.now();
const log = (s: string) => process.stderr.write(`[bench +${((Date.now() - started) / 1000).toFixed(1)}s] ${s}\n`);

async function main() {
  const m = machine(CHROMIUM_PATH);
  log(`machine: ${m.nproc} CPUs, ${m.cpu}`);
  const [stack, chromium, server] = await Promise.all([startApp(), launchBrowser(), serveClient()]);
  const admin = client(stack.url, ADMIN_TOKEN);
  const probe = new ServerProbe(stack);
  let relay: RelayResults | null = null;
  let ttff: TtffResults | null = null;
  let latency: LatencyResults | null = null;
  const errors: string[] = [];
  try {
    await eventually(async () => (await admin('GET', '/1.0/status')).status === 200);
    const app = await admin('POST', '/ams/1.0/applications', { body: testPatternManifest('pattern', { display: SCREEN }) });
    if (app.status >= 300) throw new Error(`could not create the application: ${JSON.stringify(app.body)}`);
    const token = (await admin('POST', '/1.0/accounts', { body: { name: 'bench', role: 'client' } })).body.metadata.token;
    const alice = client(stack.url, token);
    probe.install();

    if (opts.only.has('relay')) {
      log('signalling relay: gateway vs bare ws');
      relay = await benchRelay(stack, { latencyCount: opts.relayLatency, throughputCount: opts.relayCount, window: opts.relayWindow }, log).catch((e) => {
        errors.push(`relay: ${(e as Error).message}`);
        return null;
      });
    }
    if (opts.only.has('ttff')) {
      log(`time to first frame over ${opts.sessions} sessions`);
      ttff = await benchTtff(stack, chromium.browser, server, alice, probe, { sessions: opts.sessions, screen: SCREEN }, log);
    }
    if (opts.only.has('latency')) {
      log(`capture-to-display latency over ${opts.frames} frames`);
      latency = await benchLatency(chromium.browser, server, alice, { frames: opts.frames, warmupMs: 2000, screen: SCREEN }, log).catch((e) => {
        errors.push(`latency: ${(e as Error).message.split('\n').slice(0, 3).join(' | ')}`);
        return null;
      });
    }
  } finally {
    probe.uninstall();
    await chromium.close();
    await server.close();
    await stack.close();
  }

  const report = render(m, relay, ttff, latency, errors);
  process.stdout.write(report);
  if (opts.out !== '-') {
    writeFileSync(opts.out, report);
    log(`written to ${opts.out}`);
  }
}

function verdict(value: number | null, target: number, lowerIsBetter = true): string {
  if (value === null) return 'n/a';
  return (lowerIsBetter ? value <= target : value >= target) ? 'yes' : '**no**';
}

/** Milestones (ms after POST), in the order they usually happen. */
const MILESTONES: [string, string][] = [
  ['postAnswered', 'POST /1.0/sessions answered (201)'],
  ['runtime:start:call#1', 'node runtime: instance start called'],
  ['ams:running', 'AMS: instance running (encoder produced its first frame)'],
  ['runtime:start:done#1', 'node runtime: instance start resolved'],
  ['wsOpen', 'client: signalling socket open'],
  ['discoverResp', 'client: resp:discover received'],
  ['offerReceived', 'client: offer received'],
  ['runtime:restartEncoder:call#1', 'node: encoder restart for the viewer called'],
  ['answerSent', 'client: answer sent'],
  ['firstRemoteCandidate', 'client: first instance candidate'],
  ['iceChecking', 'client: ICE checking'],
  ['iceConnected', 'client: ICE connected'],
  ['dtlsConnected', 'client: DTLS connected (connectionState)'],
  ['controlOpen', 'client: control channel open'],
  ['runtime:restartEncoder:done#1', 'node: restarted encoder produced its first frame'],
  ['videoTrack', 'client: video track event'],
  ['loadedMetadata', 'client: video metadata loaded'],
  ['firstFrame', 'client: first frame presented (rVFC)'],
];

/** Segments: [label, from, to]. */
const SEGMENTS: [string, string, string][] = [
  ['create request (POST → 201)', '', 'postAnswered'],
  ['instance start (POST → instance running)', '', 'ams:running'],
  ['signalling: socket open → offer', 'wsOpen', 'offerReceived'],
  ['answer → ICE connected', 'answerSent', 'iceConnected'],
  ['ICE connected → DTLS connected', 'iceConnected', 'dtlsConnected'],
  ['encoder restart → its first frame (node side)', 'runtime:restartEncoder:call#1', 'runtime:restartEncoder:done#1'],
  ['DTLS connected → first frame presented', 'dtlsConnected', 'firstFrame'],
];

function render(m: ReturnType<typeof machine>, relay: RelayResults | null, ttff: TtffResults | null, lat: LatencyResults | null, errors: string[]): string {
  const L: string[] = [];
  const ttffs = ttff?.samples.map((s) => s.ttff) ?? [];
  L.push('# Benchmarks', '');
  L.push(`Command: \`${COMMAND}\` (the script is \`${COMMAND_LONG.replace('npx ', '')}\`; without it: \`${COMMAND_LONG}\`), run ${new Date().toISOString()}.`, '');
  L.push(
    `Machine: ${m.nproc} CPUs (\`nproc\`), ${m.cpu}, ${m.memoryGiB} GiB RAM, Linux ${m.kernel}; Node ${m.node}; ${m.chromium} (headless, software decoding); ${m.ffmpeg}.`,
    '',
  );
  L.push(
    'Setup: the monolith (every role in one process, in-process transport, SQLite), loopback only, `test-pattern` instances at ' +
      `${SCREEN.width}x${SCREEN.height}@${SCREEN.fps}, the SDK-compatible test client (\`test/client/\`) in Chromium on the same machine. ` +
      'Sessions are made with `POST /1.0/sessions` by a client account, one at a time.',
    '',
  );
  L.push('## Results', '');
  L.push('| metric | target | result | met |', '|---|---|---|---|');
  const p50 = quantile(ttffs, 0.5);
  const p95 = quantile(ttffs, 0.95);
  L.push(`| time to first frame p50 (${ttffs.length} sessions) | ≤ 300 ms | ${fmt(p50)} ms | ${verdict(p50, 300)} |`);
  L.push(`| time to first frame p95 | ≤ 600 ms | ${fmt(p95)} ms | ${verdict(p95, 600)} |`);
  L.push(`| capture-to-display latency p50 (${lat?.samples ?? 0} frames) | ≤ 25 ms | ${fmt(lat?.latency.p50 ?? null, 1)} ms | ${verdict(lat?.latency.p50 ?? null, 25)} |`);
  L.push(`| capture-to-display latency p95 | ≤ 45 ms | ${fmt(lat?.latency.p95 ?? null, 1)} ms | ${verdict(lat?.latency.p95 ?? null, 45)} |`);
  if (relay) {
    const g = relay.gateway.throughput;
    const b = relay.bare.throughput;
    L.push(`| gateway relay throughput (${g.window} round trips in flight) | | ${fmt(2 * g.roundTripsPerSecond)} messages/s (${fmt(g.roundTripsPerSecond)} round trips/s), rtt p99 ${fmt(g.rtt.p99, 1)} ms | |`);
    L.push(`| bare \`ws\` relay throughput (${b.window} in flight) | | ${fmt(2 * b.roundTripsPerSecond)} messages/s (${fmt(b.roundTripsPerSecond)} round trips/s), rtt p99 ${fmt(b.rtt.p99, 1)} ms | |`);
    L.push(`| gateway / bare throughput | | ${fmt(g.roundTripsPerSecond / b.roundTripsPerSecond, 2)} | |`);
    L.push(`| gateway relay round trip p50 / p99 (one in flight) | | ${fmt(relay.gateway.latency.rtt.p50, 3)} / ${fmt(relay.gateway.latency.rtt.p99, 3)} ms | |`);
    L.push(`| bare relay round trip p50 / p99 (one in flight) | | ${fmt(relay.bare.latency.rtt.p50, 3)} / ${fmt(relay.bare.latency.rtt.p99, 3)} ms | |`);
  } else {
    L.push('| signalling relay | | not measured | |');
  }
  L.push('');

  if (ttff && ttff.samples.length) {
    L.push('## Where the time to first frame goes', '');
    L.push(`Milestones in ms after \`POST /1.0/sessions\` was sent, over ${ttff.samples.length} sessions (client steps from the page, the rest from the stack in the same process, all on one clock):`, '');
    L.push('| milestone | p50 | p95 |', '|---|---|---|');
    for (const [key, label] of MILESTONES) {
      const v = ttff.samples.map((s) => s.at[key]).filter((x) => x !== undefined);
      if (!v.length) continue;
      L.push(`| ${label} | ${fmt(quantile(v, 0.5))} | ${fmt(quantile(v, 0.95))} |`);
    }
    L.push('', '| span | p50 ms | p95 ms |', '|---|---|---|');
    for (const [label, from, to] of SEGMENTS) {
      const v = ttff.samples.filter((s) => s.at[to] !== undefined && (from === '' || s.at[from] !== undefined)).map((s) => s.at[to] - (from ? s.at[from] : 0));
      if (!v.length) continue;
      L.push(`| ${label} | ${fmt(quantile(v, 0.5))} | ${fmt(quantile(v, 0.95))} |`);
    }
    L.push('');
    const other = new Set<string>();
    for (const s of ttff.samples) for (const k of Object.keys(s.at)) if (!MILESTONES.some(([m]) => m === k)) other.add(k);
    if (other.size) L.push(`Other marks seen: ${[...other].sort().map((k) => `\`${k}\``).join(', ')}.`, '');
    L.push(`All TTFF samples (ms): ${ttffs.map((v) => v.toFixed(0)).join(', ')}.`, '');
  }
  if (ttff?.failures.length) {
    L.push('TTFF failures:', '', ...ttff.failures.map((f) => `- ${f}`), '');
  }

  if (lat) {
    L.push('## Capture-to-display latency', '');
    L.push(
      'Read from the timestamp strip (PROTOCOL.md §9) of each presented frame: in a `requestVideoFrameCallback` the page draws the strip to a canvas, ' +
        'reads the 48 cells and takes `performance.timeOrigin + metadata.presentationTime − strip`. The strip is stamped by the frame source right ' +
        'before the frame is handed to the encoder, so this covers encode, RTP forwarding, the network stack, jitter buffer, decode and presentation.',
      '',
    );
    L.push('| | p50 ms | p95 ms | p99 ms |', '|---|---|---|---|');
    L.push(`| strip → frame presented | ${fmt(lat.latency.p50, 1)} | ${fmt(lat.latency.p95, 1)} | ${fmt(lat.latency.p99, 1)} |`);
    L.push(`| strip → last packet of the frame received (rVFC receiveTime) | ${fmt(lat.receive.p50, 1)} | ${fmt(lat.receive.p95, 1)} | ${fmt(lat.receive.p99, 1)} |`);
    L.push(`| received → presented (jitter buffer, decode, compositor) | ${fmt(lat.presentedAfterReceive.p50, 1)} | ${fmt(lat.presentedAfterReceive.p95, 1)} | |`);
    L.push('');
    const s = lat.stats;
    L.push(
      `${lat.samples} frames over ${lat.seconds.toFixed(1)} s (${lat.invalid} unreadable strips); decoded ${fmt(s.decodedFps, 1)} fps at ${s.frame} with ${s.decoder}; ` +
        `mean jitter-buffer delay ${fmt(s.jitterBufferMs, 1)} ms, mean decode ${fmt(s.decodeMs, 1)} ms; ` +
        `frames dropped ${s.framesDropped}, packets lost ${s.packetsLost}, NACKs ${s.nackCount}, PLIs ${s.pliCount}, freezes ${s.freezeCount}; ` +
        `audio packets ${s.audioPackets}. Reading the strip took ${fmt(lat.readMs.p50, 1)} ms per frame (p50) on the page's main thread; ` +
        `Date.now() − (timeOrigin + performance.now()) p50 ${fmt(lat.clockSkew.p50, 1)} ms.`,
      '',
    );
  }

  if (relay) {
    L.push('## Signalling relay', '');
    L.push(
      'A load generator (`bench/relay-load.js`, its own process) opens a signalling socket, does discover/settings/offer, then sends valid `candidate` ' +
        'messages that a fake instance echoes back. **Gateway**: the real relay (ticketed socket, validation and order checks, `signal.{session}.to-instance` ' +
        'on the in-process bus to a subscriber that emits `signal.{session}.to-client` back). **Bare**: a minimal `ws` server forwarding frames between the ' +
        'client socket and an instance socket, unchanged. Each message crosses the relay twice per round trip.',
      '',
    );
    L.push('| relay | mode | round trips | messages relayed/s | round trips/s | rtt p50 ms | rtt p95 ms | rtt p99 ms |', '|---|---|---|---|---|---|---|---|');
    for (const which of ['gateway', 'bare'] as const) {
      for (const mode of ['latency', 'throughput'] as const) {
        const r = relay[which][mode];
        L.push(`| ${which} | ${mode === 'latency' ? 'one in flight' : `${r.window} in flight`} | ${r.count} | ${fmt(2 * r.roundTripsPerSecond)} | ${fmt(r.roundTripsPerSecond)} | ${fmt(r.rtt.p50, 3)} | ${fmt(r.rtt.p95, 3)} | ${fmt(r.rtt.p99, 3)} |`);
      }
    }
    L.push('');
    L.push(
      `Ratio gateway / bare: throughput ${fmt(relay.gateway.throughput.roundTripsPerSecond / relay.bare.throughput.roundTripsPerSecond, 2)}, ` +
        `unloaded round trip p99 ${fmt(relay.gateway.latency.rtt.p99 / relay.bare.latency.rtt.p99, 2)}×.`,
      '',
    );
  }
  if (errors.length) L.push('## Errors', '', ...errors.map((e) => `- ${e}`), '');
  return `${L.join('\n')}\n`;
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
