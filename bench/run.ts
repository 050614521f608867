/**
 * streamstack benchmarks, all in one run: the monolith (every role in this process, in-process
 * transport, SQLite), loopback only, test-pattern instances at 1280x720@30, real headless
 * Chromium running the SDK-compatible test client (test/client/).
 *
 *   npm run bench        # package.json: "bench": "ts-node -T -r tsconfig-paths/register bench/run.ts"
 *
 * Environment (all optional):
 *   BENCH_SESSIONS=20        sessions for time to first frame (POST /1.0/sessions → first frame)
 *   BENCH_JOINS=20           joins of one running session (POST …/join → first frame)
 *   BENCH_FRAMES=450         presented frames whose timestamp strip is read (latency, per variant)
 *   BENCH_RELAY_LATENCY=3000 round trips one at a time (relay latency)
 *   BENCH_RELAY_COUNT=30000  round trips with BENCH_RELAY_WINDOW in flight (relay throughput)
 *   BENCH_RELAY_WINDOW=64
 *   BENCH_STARTS=10          instance starts with warm spares, and as many without (node runtime alone)
 *   BENCH_ONLY=relay,start,ttff,join,latency   a subset
 *   BENCH_LATENCY_VARIANTS=0,3,0,3  which latency variants (indexes into LATENCY_VARIANTS) in which order,
 *                            repeats allowed: A/B comparisons alternate within one run (default: each once)
 *   BENCH_OUT=docs/benchmarks.md    where the report goes ("-" = stdout only)
 *   BENCH_FROM=dist          dist: compile into node_modules/.cache/streamstack-bench (see stack.ts) and
 *                            run that, as `npm start` would; src: run the TypeScript sources (ts-node)
 *   BENCH_KEEP_LOGS=<dir>    copy each instance's process logs (streamer.log, encoder.log, ...) there
 *   BENCH_LOG_LEVEL=warn     the stack's log level
 *   BENCH_JSON=<file>        where the raw results go (default node_modules/.cache/streamstack-bench/results.json)
 *   BENCH_RENDER=<file>      only re-render the report from such a file
 *
 * Prints a markdown report and writes it to BENCH_OUT. Never part of `npm test`.
 */
import 'reflect-metadata';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM_PATH, launchBrowser, serveClient } from '../test/support/browser';
import { client } from '../test/support/http';
import { testPatternManifest } from '../test/support/packages';
import { eventually, fmt, machine, quantile } from './lib';
import { benchInstanceStart, InstanceStartResults } from './instance-start';
import { benchRelay, RelayResults } from './relay';
import { ADMIN_TOKEN, buildForBench, startStack } from './stack';
import { benchJoin, benchLatency, benchTtff, LatencyResults, ServerProbe, TtffResults } from './streaming';

const SCREEN = { width: 1280, height: 720, fps: 30 };
const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const opts = {
  sessions: env('BENCH_SESSIONS', 20),
  joins: env('BENCH_JOINS', 20),
  starts: env('BENCH_STARTS', 10),
  frames: env('BENCH_FRAMES', 450),
  relayLatency: env('BENCH_RELAY_LATENCY', 3000),
  relayCount: env('BENCH_RELAY_COUNT', 30000),
  relayWindow: env('BENCH_RELAY_WINDOW', 64),
  only: new Set((process.env.BENCH_ONLY ?? 'relay,start,ttff,join,latency').split(',').map((s) => s.trim())),
  out: process.env.BENCH_OUT ?? join(__dirname, '..', 'docs', 'benchmarks.md'),
  from: (process.env.BENCH_FROM === 'src' ? 'src' : 'dist') as 'src' | 'dist',
};
const COMMAND = 'npm run bench';
/** The last run's raw numbers (BENCH_RENDER re-renders a report from them). */
const RESULTS_JSON = process.env.BENCH_JSON ?? join(__dirname, '..', 'node_modules', '.cache', 'streamstack-bench', 'results.json');
const SCRIPT = 'ts-node -T -r tsconfig-paths/register bench/run.ts';

/** The latency variants: what the SDK does, then two that show where the time goes. */
const LATENCY_VARIANTS = [
  { label: 'as the SDK connects (video + audio)', connect: {} },
  { label: 'video only (settings enable_speaker: false)', connect: { enable_speaker: false } },
  { label: 'video + audio, page sets jitterBufferTarget = 0', connect: { jitterBufferTarget: 0 } },
  { label: 'video + audio, answer without header extensions (no playout-delay)', connect: { withoutHeaderExtensions: true } },
];

const started = Date.now();
const log = (s: string) => process.stderr.write(`[bench +${((Date.now() - started) / 1000).toFixed(1)}s] ${s}\n`);

interface Results {
  relay: RelayResults | null;
  start: InstanceStartResults | null;
  ttff: TtffResults | null;
  join: TtffResults | null;
  latency: LatencyResults[];
  errors: string[];
}

async function main() {
  const m = machine(CHROMIUM_PATH);
  const loadStart = loadAverage();
  log(`machine: ${m.nproc} CPUs, ${m.cpu}; load average ${loadStart}`);
  if (opts.from === 'dist') buildForBench(log);
  const [stack, chromium, server] = await Promise.all([startStack(opts.from), launchBrowser(), serveClient()]);
  log(`stack from ${opts.from} at ${stack.url}`);
  const admin = client(stack.url, ADMIN_TOKEN);
  const probe = new ServerProbe(stack);
  const r: Results = { relay: null, start: null, ttff: null, join: null, latency: [], errors: [] };
  const attempt = async <T>(what: string, run: () => Promise<T>): Promise<T | null> => {
    try {
      return await run();
    } catch (e) {
      r.errors.push(`${what}: ${(e as Error).message.split('\n').slice(0, 3).join(' | ')}`);
      log(`${what} FAILED: ${(e as Error).stack}`);
      return null;
    }
  };
  try {
    await eventually(async () => (await admin('GET', '/1.0/status')).status === 200);
    const app = await admin('POST', '/ams/1.0/applications', { body: testPatternManifest('pattern', { display: SCREEN }) });
    if (app.status >= 300) throw new Error(`could not create the application: ${JSON.stringify(app.body)}`);
    const token = (await admin('POST', '/1.0/accounts', { body: { name: 'bench', role: 'client' } })).body.metadata.token;
    const alice = client(stack.url, token);
    probe.install();

    if (opts.only.has('relay')) {
      log('signalling relay: gateway vs bare ws');
      r.relay = await attempt('relay', () => benchRelay(stack, { latencyCount: opts.relayLatency, throughputCount: opts.relayCount, window: opts.relayWindow }, log));
    }
    if (opts.only.has('start')) {
      log(`instance start, warm spares vs none, ${opts.starts} each`);
      r.start = await attempt('start', () => benchInstanceStart(stack.NodeRuntime, { runs: opts.starts, screen: SCREEN }, log));
    }
    if (opts.only.has('ttff')) {
      log(`time to first frame over ${opts.sessions} sessions`);
      r.ttff = await attempt('ttff', () => benchTtff(stack, chromium.browser, server, alice, probe, { sessions: opts.sessions, screen: SCREEN }, log));
    }
    if (opts.only.has('join')) {
      log(`join → first frame over ${opts.joins} joins of one session`);
      r.join = await attempt('join', () => benchJoin(chromium.browser, server, alice, probe, { joins: opts.joins, screen: SCREEN }, log));
    }
    if (opts.only.has('latency')) {
      const order = process.env.BENCH_LATENCY_VARIANTS ? process.env.BENCH_LATENCY_VARIANTS.split(',').map(Number) : LATENCY_VARIANTS.map((_, i) => i);
      for (const [i, v] of order.map((k, i) => [i, LATENCY_VARIANTS[k]] as const)) {
        if (!v) throw new Error(`BENCH_LATENCY_VARIANTS: no variant ${order[i]} (0-${LATENCY_VARIANTS.length - 1})`);
        const frames = i === 0 ? opts.frames : Math.min(opts.frames, 300);
        log(`capture-to-display latency over ${frames} frames: ${v.label}`);
        const res = await attempt(`latency (${v.label})`, () => benchLatency(chromium.browser, server, alice, { label: v.label, frames, warmupMs: 2000, screen: SCREEN, connect: v.connect }, log));
        if (res) r.latency.push(res);
      }
    }
  } finally {
    probe.uninstall();
    await chromium.close();
    await server.close();
    await stack.close();
  }

  const loadEnd = loadAverage();
  const load = `${loadStart} at the start, ${loadEnd} at the end`;
  const ranAt = new Date(started).toISOString();
  writeFileSync(RESULTS_JSON, JSON.stringify({ m, from: stack.from, r, load, ranAt }, null, 1));
  log(`raw results in ${RESULTS_JSON}`);
  const report = render(m, stack.from, r, load, ranAt);
  process.stdout.write(report);
  if (opts.out !== '-') {
    writeFileSync(opts.out, report);
    log(`written to ${opts.out}`);
  }
}

function verdict(value: number | null, target: number): string {
  if (value === null) return 'n/a';
  return value <= target ? 'yes' : '**no**';
}

/** Milestones (ms after the request), in the order they usually happen. */
const MILESTONES: [string, string][] = [
  ['requestAnswered', 'request answered (201 / 200)'],
  ['runtime:start:call#1', 'node runtime: instance start called'],
  ['wsOpen', 'client: signalling socket open'],
  ['ams:started', 'AMS: instance started'],
  ['runtime:start:done#1', 'node runtime: instance start resolved (its processes are ready; a streaming instance encodes from its first viewer on)'],
  ['ams:running', 'AMS: instance running (session active)'],
  ['discoverResp', 'client: resp:discover received'],
  ['runtime:restartEncoder:call#1', 'node: keyframe for the viewer requested (at settings)'],
  ['offerReceived', 'client: offer received'],
  ['videoTrack', 'client: video track event'],
  ['answerSent', 'client: answer sent'],
  ['iceChecking', 'client: ICE checking'],
  ['iceConnected', 'client: ICE connected'],
  ['runtime:restartEncoder:done#1', 'node: that encoder restart resolved (ffmpeg reported its first frame; progress reports come every 50 ms)'],
  ['dtlsConnected', 'client: DTLS connected (connectionState)'],
  ['controlOpen', 'client: control channel open'],
  ['runtime:restartEncoder:call#2', 'node: another keyframe requested at connect (the one held was too old or too long)'],
  ['runtime:restartEncoder:done#2', 'node: that encoder restart resolved'],
  ['firstFrame', 'client: first frame presented (rVFC)'],
  ['loadedMetadata', 'client: video metadata loaded'],
];

/** Spans: [label, from ('' = the request), to]. */
const SPANS: [string, string, string][] = [
  ['request → answered', '', 'requestAnswered'],
  ['request → instance running (instance start)', '', 'ams:running'],
  ['socket open → resp:discover (held by the gateway until the session is active)', 'wsOpen', 'discoverResp'],
  ['resp:discover → offer', 'discoverResp', 'offerReceived'],
  ['offer → answer sent (browser)', 'offerReceived', 'answerSent'],
  ['answer → ICE connected', 'answerSent', 'iceConnected'],
  ['ICE connected → DTLS connected', 'iceConnected', 'dtlsConnected'],
  ['keyframe request at settings → encoder restart resolved', 'runtime:restartEncoder:call#1', 'runtime:restartEncoder:done#1'],
  ['second keyframe request → encoder restart resolved', 'runtime:restartEncoder:call#2', 'runtime:restartEncoder:done#2'],
  ['DTLS connected → first frame presented', 'dtlsConnected', 'firstFrame'],
];

function ttffSection(L: string[], title: string, what: string, t: TtffResults) {
  L.push(`## ${title}`, '');
  L.push(`${what} Milestones in ms after the request was sent, over ${t.samples.length} runs (client steps from the page, the rest from the stack in this process; one clock):`, '');
  L.push('| milestone | seen in | p50 | p95 |', '|---|---|---|---|');
  for (const [key, label] of MILESTONES) {
    const v = t.samples.map((s) => s.at[key]).filter((x) => x !== undefined);
    if (!v.length) continue;
    L.push(`| ${label} | ${v.length}/${t.samples.length} | ${fmt(quantile(v, 0.5))} | ${fmt(quantile(v, 0.95))} |`);
  }
  L.push('', '| span | seen in | p50 ms | p95 ms |', '|---|---|---|---|');
  for (const [label, from, to] of SPANS) {
    const v = t.samples.filter((s) => s.at[to] !== undefined && (from === '' || s.at[from] !== undefined)).map((s) => s.at[to] - (from ? s.at[from] : 0));
    if (!v.length) continue;
    L.push(`| ${label} | ${v.length}/${t.samples.length} | ${fmt(quantile(v, 0.5))} | ${fmt(quantile(v, 0.95))} |`);
  }
  L.push('', `All samples (ms): ${t.samples.map((s) => s.ttff.toFixed(0)).join(', ')}.`, '');
  if (t.failures.length) L.push('Failures:', '', ...t.failures.map((f) => `- ${f}`), '');
}

/** The 1-minute load average: other work on the machine shows in every number here. */
function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  } catch {
    return 'n/a';
  }
}

function render(m: ReturnType<typeof machine>, from: 'dist' | 'src', r: Results, load: string, ranAt: string): string {
  const L: string[] = [];
  const ttffs = r.ttff?.samples.map((s) => s.ttff) ?? [];
  const joins = r.join?.samples.map((s) => s.ttff) ?? [];
  const lat = r.latency[0] ?? null;
  L.push('# Benchmarks', '');
  L.push(`Command: \`${COMMAND}\` (the package.json script is \`${SCRIPT}\`; without it: \`npx ${SCRIPT}\`), run ${ranAt}.`, '');
  L.push(`Machine: ${m.nproc} CPUs (\`nproc\`), ${m.cpu}, ${m.memoryGiB} GiB RAM, Linux ${m.kernel}; Node ${m.node}; ${m.chromium} (headless, software decoding); ${m.ffmpeg}. 1-minute load average ${load}.`, '');
  L.push(
    'Setup: the monolith (every role in one process, in-process transport, SQLite), loopback only, `test-pattern` instances at ' +
      `${SCREEN.width}x${SCREEN.height}@${SCREEN.fps}, the SDK-compatible test client (\`test/client/\`) in Chromium on the same machine ` +
      '(browser, stack, frame source, encoder and streamer share the CPUs). Sessions are made with `POST /1.0/sessions` by a client account, one at a time. ' +
      (from === 'dist'
        ? 'The stack runs compiled (`nest build` into a private directory), so instance processes start as plain `node`, as with `npm start`.'
        : 'The stack runs from the TypeScript sources (`BENCH_FROM=src`): instance processes start through ts-node, which adds over a second to each start.'),
    '',
  );
  L.push('## Results', '');
  L.push('| metric | target | result | met |', '|---|---|---|---|');
  const p50 = quantile(ttffs, 0.5);
  const p95 = quantile(ttffs, 0.95);
  L.push(`| time to first frame p50, \`POST /1.0/sessions\` → first frame (${ttffs.length} sessions) | ≤ 300 ms | ${fmt(p50)} ms | ${verdict(p50, 300)} |`);
  L.push(`| time to first frame p95 | ≤ 600 ms | ${fmt(p95)} ms | ${verdict(p95, 600)} |`);
  if (joins.length) L.push(`| (for reference) join → first frame p50 / p95, instance already running (${joins.length} joins) | | ${fmt(quantile(joins, 0.5))} / ${fmt(quantile(joins, 0.95))} ms | |`);
  L.push(`| capture-to-display latency p50 (${lat?.samples ?? 0} frames) | ≤ 25 ms | ${fmt(lat?.latency.p50 ?? null, 1)} ms | ${verdict(lat?.latency.p50 ?? null, 25)} |`);
  L.push(`| capture-to-display latency p95 | ≤ 45 ms | ${fmt(lat?.latency.p95 ?? null, 1)} ms | ${verdict(lat?.latency.p95 ?? null, 45)} |`);
  if (r.start) {
    const w = quantile(r.start.warm, 0.5);
    const c = quantile(r.start.cold, 0.5);
    L.push(`| instance start p50 / p95 (node runtime alone, ${r.start.runs} each, alternating): warm spares vs none | | ${fmt(w)} / ${fmt(quantile(r.start.warm, 0.95))} ms vs ${fmt(c)} / ${fmt(quantile(r.start.cold, 0.95))} ms | |`);
    L.push(`| warm / cold instance start p50 | | ${w !== null && c ? fmt(w / c, 2) : 'n/a'} | |`);
  }
  if (r.relay) {
    const g = r.relay.gateway.throughput;
    const b = r.relay.bare.throughput;
    L.push(`| signalling relay throughput, gateway (${g.window} round trips in flight) | | ${fmt(2 * g.roundTripsPerSecond)} messages/s, p99 round trip ${fmt(g.rtt.p99, 1)} ms | |`);
    L.push(`| signalling relay throughput, bare \`ws\` relay (same load) | | ${fmt(2 * b.roundTripsPerSecond)} messages/s, p99 round trip ${fmt(b.rtt.p99, 1)} ms | |`);
    L.push(`| gateway / bare throughput | | ${fmt(g.roundTripsPerSecond / b.roundTripsPerSecond, 2)} | |`);
    L.push(`| relay round trip p50 / p99 unloaded (one in flight), gateway vs bare | | ${fmt(r.relay.gateway.latency.rtt.p50, 2)} / ${fmt(r.relay.gateway.latency.rtt.p99, 2)} ms vs ${fmt(r.relay.bare.latency.rtt.p50, 2)} / ${fmt(r.relay.bare.latency.rtt.p99, 2)} ms | |`);
  } else {
    L.push('| signalling relay | | not measured | |');
  }
  L.push('');

  if (r.ttff?.samples.length) ttffSection(L, 'Where the time to first frame goes', 'From `POST /1.0/sessions` to the first frame presented in the page: a new instance each time.', r.ttff);
  else if (r.ttff?.failures.length) L.push('## Time to first frame', '', 'Failures:', '', ...r.ttff.failures.map((f) => `- ${f}`), '');
  if (r.join?.samples.length) ttffSection(L, 'Join → first frame (instance already running)', 'From `POST /1.0/sessions/{id}/join` on one running joinable session to the first frame in a fresh page: the streaming part of TTFF alone.', r.join);

  if (r.latency.length) {
    L.push('## Capture-to-display latency', '');
    L.push(
      'Read from the timestamp strip (PROTOCOL.md §9) of each presented frame: in a `requestVideoFrameCallback` the page draws the strip to a canvas, ' +
        'reads the 48 cells and takes `performance.timeOrigin + metadata.presentationTime − strip`; `metadata.receiveTime` splits it into ' +
        '"strip → last packet of the frame received" (frame source hand-off, encode, RTP forwarding, SRTP, loopback) and "received → presented" ' +
        "(the browser's jitter buffer, decode, compositor). Each variant is a fresh session, measured from 2 s after its first frame.",
      '',
    );
    L.push('| variant | frames | p50 ms | p95 ms | p99 ms | strip → received p50 / p95 | received → presented p50 / p95 | video jitter buffer (mean) | audio jitter buffer (mean) |');
    L.push('|---|---|---|---|---|---|---|---|---|');
    for (const x of r.latency) {
      L.push(
        `| ${x.label} | ${x.samples} | ${fmt(x.latency.p50, 1)} | ${fmt(x.latency.p95, 1)} | ${fmt(x.latency.p99, 1)} | ${fmt(x.receive.p50, 1)} / ${fmt(x.receive.p95, 1)} | ` +
          `${fmt(x.presentedAfterReceive.p50, 1)} / ${fmt(x.presentedAfterReceive.p95, 1)} | ${fmt(x.stats.jitterBufferMs, 1)} ms | ${fmt(x.stats.audioJitterBufferMs, 1)} ms |`,
      );
    }
    L.push('', 'Latency p50 per 5-second window (seconds after the first frame):', '');
    L.push('| variant | windows |', '|---|---|');
    for (const x of r.latency) L.push(`| ${x.label} | ${x.series.map((w) => `${w.from}s: ${fmt(w.p50, 0)}`).join(', ')} |`);
    L.push('');
    for (const x of r.latency) {
      const s = x.stats;
      L.push(
        `- ${x.label}: ${x.samples} frames over ${x.seconds.toFixed(1)} s (${x.invalid} unreadable strips); decoded ${fmt(s.decodedFps, 1)} fps at ${s.frame}; ` +
          `mean decode ${fmt(s.decodeMs, 1)} ms; video jitter-buffer target ${fmt(s.jitterBufferTargetMs, 1)} ms; frames dropped ${s.framesDropped}, packets lost ${s.packetsLost}, ` +
          `NACKs ${s.nackCount}, PLIs ${s.pliCount}, freezes ${s.freezeCount}; audio packets ${s.audioPackets}; strip read ${fmt(x.readMs.p50, 1)} ms per frame on the page's main thread; ` +
          `Date.now() − (timeOrigin + performance.now()) ${fmt(x.clockSkew.p50, 1)} ms.`,
      );
    }
    L.push('');
  }

  if (r.relay) {
    L.push('## Signalling relay', '');
    L.push(
      'A load generator (`bench/relay-load.js`, its own process) opens a signalling socket, does discover/settings/offer, then sends valid `candidate` ' +
        'messages that a fake instance echoes back. **Gateway**: the real relay (ticketed socket, validation and order checks, `signal.{session}.to-instance` ' +
        'on the in-process bus to a subscriber that emits `signal.{session}.to-client` back). **Bare**: a minimal `ws` server forwarding frames between the ' +
        'client socket and an instance socket, unchanged. A round trip is two relayed messages. Warm-up runs precede each measured run.',
      '',
    );
    L.push('| relay | mode | round trips | messages relayed/s | round trips/s | rtt p50 ms | rtt p95 ms | rtt p99 ms |', '|---|---|---|---|---|---|---|---|');
    for (const which of ['gateway', 'bare'] as const) {
      for (const mode of ['latency', 'throughput'] as const) {
        const x = r.relay[which][mode];
        L.push(
          `| ${which} | ${mode === 'latency' ? 'one in flight' : `${x.window} in flight`} | ${x.count} | ${fmt(2 * x.roundTripsPerSecond)} | ${fmt(x.roundTripsPerSecond)} | ` +
            `${fmt(x.rtt.p50, 3)} | ${fmt(x.rtt.p95, 3)} | ${fmt(x.rtt.p99, 3)} |`,
        );
      }
    }
    L.push('');
    L.push(
      `Ratio gateway / bare: throughput ${fmt(r.relay.gateway.throughput.roundTripsPerSecond / r.relay.bare.throughput.roundTripsPerSecond, 2)}, ` +
        `unloaded round trip p99 ${fmt(r.relay.gateway.latency.rtt.p99 / r.relay.bare.latency.rtt.p99, 2)}×.`,
      '',
    );
  }
  const notes = readingNotes(r);
  if (notes.length) L.push('## Reading the numbers', '', ...notes.map((n) => `- ${n}`), '');
  if (r.errors.length) L.push('## Errors', '', ...r.errors.map((e) => `- ${e}`), '');
  return `${L.join('\n')}\n`;
}

const span = (at: Record<string, number>, from: string, to: string) => (at[from] !== undefined && at[to] !== undefined ? at[to] - at[from] : undefined);

/** What the measurements say, computed from them (so that the text stays true on a rerun). */
function readingNotes(r: Results): string[] {
  const notes: string[] = [];
  const p50 = (t: TtffResults, f: (at: Record<string, number>) => number | undefined) =>
    quantile(t.samples.map((s) => f(s.at)).filter((v): v is number => v !== undefined), 0.5);
  if (r.ttff?.samples.length) {
    const t = r.ttff;
    const total = quantile(t.samples.map((s) => s.ttff), 0.5);
    const start = p50(t, (a) => a['ams:running']);
    const after = p50(t, (a) => (a.firstFrame !== undefined && a['ams:running'] !== undefined ? a.firstFrame - a['ams:running'] : undefined));
    const keyframe = p50(t, (a) => span(a, 'runtime:restartEncoder:call#1', 'runtime:restartEncoder:done#1'));
    const dtls = p50(t, (a) => span(a, 'runtime:restartEncoder:call#1', 'dtlsConnected'));
    notes.push(
      `Time to first frame: of ${fmt(total)} ms (p50), ${fmt(start)} ms pass before the instance is running (its processes start; the gateway holds the ` +
        `client's discover until then) and ${fmt(after)} ms from there to the first frame. From the viewer's settings, its keyframe took ${fmt(keyframe)} ms ` +
        `(the standby encoder, started with the instance, must first have loaded) while DTLS was up after ${fmt(dtls)} ms: the longer of the two decides.`,
    );
  }
  for (const [name, t] of [['fresh sessions', r.ttff], ['joins', r.join]] as const) {
    if (!t?.samples.length) continue;
    const missed = t.samples.filter((s) => s.at['runtime:restartEncoder:call#2'] !== undefined && s.at['runtime:restartEncoder:call#2'] < s.ttff);
    if (missed.length) {
      const cost = quantile(missed.map((s) => s.ttff - (s.at.dtlsConnected ?? s.ttff)), 0.5);
      notes.push(
        `Keyframe timing (${name}): in ${missed.length}/${t.samples.length} runs the keyframe the streamer asks for at \`settings\` came so long before the ` +
          `video track opened that the streamer did not send what it held; a second encoder restart followed, and the first frame came ${fmt(cost)} ms (p50) after DTLS connected.`,
      );
    }
  }
  for (const [name, t] of [['fresh sessions', r.ttff], ['joins', r.join]] as const) {
    if (!t?.samples.length) continue;
    const slow = t.samples.filter((s) => s.at.dtlsConnected !== undefined && s.ttff - s.at.dtlsConnected > 1000);
    if (slow.length) {
      notes.push(
        `Stalls (${name}): in ${slow.length}/${t.samples.length} runs the first frame came ${slow.map((s) => fmt(s.ttff - s.at.dtlsConnected)).join(', ')} ms after DTLS connected, ` +
          'about one GOP (`-g 60` at 30 fps = 2 s): the keyframe asked for did not reach the viewer and it waited for the next periodic one.',
      );
    }
    const failed = t.failures.filter((f) => /connectionState .*failed/.test(f));
    if (failed.length) {
      notes.push(
        `Failures (${name}): ${failed.length}/${t.samples.length + t.failures.length} runs never showed a frame: ICE connected, then the browser's connectionState went to ` +
          '`failed` within a few tens of ms (DTLS/peer failure; the streamer closed its peer connection), see the failures above.',
      );
    }
  }
  const withAudio = r.latency[0];
  const videoOnly = r.latency.find((x) => x.label.startsWith('video only'));
  const grew = (x: LatencyResults | undefined) => x && x.series.length >= 2 && (x.series[x.series.length - 1].p50 ?? 0) - (x.series[0].p50 ?? 0) > 20;
  if (withAudio && videoOnly && grew(withAudio) && !grew(videoOnly)) {
    const first = withAudio.series[0].p50 ?? 0;
    const last = withAudio.series[withAudio.series.length - 1].p50 ?? 0;
    notes.push(
      `Latency with audio on went from ${fmt(first)} ms to ${fmt(last)} ms (p50 per 5 s window) within the measurement, while video only stayed at ` +
        `${fmt(videoOnly.latency.p50)} ms: the browser delays video to lip-sync it with the audio (mean audio jitter buffer ${fmt(withAudio.stats.audioJitterBufferMs, 0)} ms), ` +
        "and the RTCP sender reports it syncs with pair each stream's last RTP timestamp with the time the report is sent, not with that packet's capture time.",
    );
  }
  for (const x of r.latency) {
    if (x !== withAudio && grew(x) && x.stats.audioPackets > 0) {
      notes.push(`Latency grew within the measurement in "${x.label}" as well: ${x.series.map((w) => fmt(w.p50)).join(' → ')} ms.`);
    }
  }
  if (videoOnly) {
    notes.push(
      `Without audio, the frame reaches the browser ${fmt(videoOnly.receive.p50, 1)} ms (p50) after the frame source stamped it (encode, forwarding, SRTP, loopback, on a ` +
        `machine whose CPUs also decode and render) and is presented ${fmt(videoOnly.presentedAfterReceive.p50, 1)} ms after that.`,
    );
  }
  return notes;
}

/** BENCH_RENDER=<results.json>: only re-render a report from a previous run's raw results. */
function rerender(file: string): void {
  const { m, from, r, load, ranAt } = JSON.parse(readFileSync(file, 'utf8'));
  const report = render(m, from, r, load, ranAt ?? statSync(file).mtime.toISOString());
  process.stdout.write(report);
  if (opts.out !== '-') writeFileSync(opts.out, report);
}

(process.env.BENCH_RENDER ? Promise.resolve(rerender(process.env.BENCH_RENDER)) : main()).then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
