/**
 * streamstack benchmarks, all in one run: the monolith (every role in this process, in-process
 * transport, SQLite), loopback only, test-pattern instances at 1280x720@30, real headless
 * Chromium running the SDK-compatible test client (test/client/).
 *
 *   npm run bench        # package.json: "bench": "ts-node -T -r tsconfig-paths/register bench/run.ts"
 *
 * Environment (all optional):
 *   BENCH_SESSIONS=40        sessions for time to first frame (POST /1.0/sessions → first frame)
 *   BENCH_JOINS=20           joins of one running session (POST …/join → first frame)
 *   BENCH_FRAMES=450         presented frames whose timestamp strip is read (latency, per variant)
 *   BENCH_RELAY_LATENCY=3000 round trips one at a time (relay latency)
 *   BENCH_RELAY_COUNT=30000  round trips with BENCH_RELAY_WINDOW in flight (relay throughput)
 *   BENCH_RELAY_WINDOW=64
 *   BENCH_STARTS=10          instance starts with warm spares, and as many without (node runtime alone)
 *   BENCH_PLI=30             PLI → IDR samples (node-datachannel receiver), spaced BENCH_PLI_SPACING=400 ms
 *   BENCH_CPU_WINDOW=10000   ms over which CPU is measured (ffmpeg baseline, then the stack's processes)
 *   BENCH_CPU_MAX_STREAMS=6  concurrent 720p30 streams tried at most
 *   BENCH_NARROW_FRACTION=0.4  coturn max-bps as a fraction of the natural rate measured first
 *   BENCH_NARROW_ADAPT=10000, BENCH_NARROW_MEASURE=15000   ms to adapt, then ms measured
 *   BENCH_NARROW_STEP=1      also a step down and back up (0: skip)
 *   BENCH_SOAK=200           sessions one after another, each ended after its first frame
 *   BENCH_ENDURANCE_SESSIONS=500, BENCH_ENDURANCE_MINUTES=10   signalling sessions held that long (one
 *                            candidate echoed every BENCH_ENDURANCE_EVERY_MS=5000 ms per session) beside one
 *                            watched stream; RSS and open fds of every process sampled every 30 s
 *   BENCH_CAPACITY_MAX=6     `streamstack loadtest` viewers tried at most per shape (single process, split),
 *   BENCH_CAPACITY_DURATION=10   each step watched this many seconds
 *   BENCH_ONLY=relay,start,pli,cpu,ttff,join,latency,narrow,soak,endurance,capacity   a subset
 *   BENCH_LATENCY_VARIANTS=0,3,0,3  which latency variants (indexes into LATENCY_VARIANTS) in which order,
 *                            repeats allowed: A/B comparisons alternate within one run (default: each once)
 *   BENCH_OUT=docs/benchmarks.md    where the report goes ("-" = stdout only)
 *   BENCH_FROM=dist          dist: compile into node_modules/.cache/streamstack-bench (see stack.ts) and
 *                            run that, as `npm start` would; src: run the TypeScript sources (ts-node)
 *   BENCH_KEEP_LOGS=<dir>    copy each instance's process logs (streamer.log, ...) there
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
import { eventually, fmt, machine, quantile, sleep } from './lib';
import { benchCapacity, CapacityResults } from './capacity';
import { benchCpu, CpuResults, MediaStatsLog } from './cpu';
import { benchEndurance, EnduranceResults } from './endurance';
import { benchInstanceStart, InstanceStartResults } from './instance-start';
import { benchNarrow, NarrowResults } from './narrow';
import { benchPli, PliResults } from './pli';
import { benchRelay, RelayResults } from './relay';
import { ADMIN_TOKEN, buildForBench, startStack } from './stack';
import { benchJoin, benchLatency, benchTtff, LatencyResults, ServerProbe, TtffResults } from './streaming';

const SCREEN = { width: 1280, height: 720, fps: 30 };
const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const opts = {
  sessions: env('BENCH_SESSIONS', 40),
  pli: env('BENCH_PLI', 30),
  pliSpacing: env('BENCH_PLI_SPACING', 400),
  cpuWindow: env('BENCH_CPU_WINDOW', 10_000),
  cpuRounds: env('BENCH_CPU_ROUNDS', 3),
  cpuMaxStreams: env('BENCH_CPU_MAX_STREAMS', 6),
  narrowFraction: env('BENCH_NARROW_FRACTION', 0.4),
  narrowAdapt: env('BENCH_NARROW_ADAPT', 10_000),
  narrowMeasure: env('BENCH_NARROW_MEASURE', 15_000),
  narrowStep: env('BENCH_NARROW_STEP', 1) !== 0,
  soak: env('BENCH_SOAK', 200),
  enduranceSessions: env('BENCH_ENDURANCE_SESSIONS', 500),
  enduranceMinutes: env('BENCH_ENDURANCE_MINUTES', 10),
  enduranceEveryMs: env('BENCH_ENDURANCE_EVERY_MS', 5000),
  capacityMax: env('BENCH_CAPACITY_MAX', 6),
  capacityDuration: env('BENCH_CAPACITY_DURATION', 10),
  joins: env('BENCH_JOINS', 20),
  starts: env('BENCH_STARTS', 10),
  frames: env('BENCH_FRAMES', 450),
  relayLatency: env('BENCH_RELAY_LATENCY', 3000),
  relayCount: env('BENCH_RELAY_COUNT', 30000),
  relayWindow: env('BENCH_RELAY_WINDOW', 64),
  only: new Set((process.env.BENCH_ONLY ?? 'relay,start,pli,cpu,ttff,join,latency,narrow,soak,endurance,capacity').split(',').map((s) => s.trim())),
  out: process.env.BENCH_OUT ?? join(__dirname, '..', 'docs', 'benchmarks.md'),
  from: (process.env.BENCH_FROM === 'src' ? 'src' : 'dist') as 'src' | 'dist',
};
/** The command as run: the env settings that differ from the defaults come first. */
const COMMAND = `${Object.keys(process.env)
  .filter((k) => k.startsWith('BENCH_') && !['BENCH_OUT', 'BENCH_JSON', 'BENCH_RENDER', 'BENCH_KEEP_LOGS'].includes(k))
  .sort()
  .map((k) => `${k}=${process.env[k]} `)
  .join('')}npm run bench`;
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
  pli: PliResults | null;
  cpu: CpuResults | null;
  narrow: NarrowResults | null;
  soak: (TtffResults & { seconds: number }) | null;
  endurance?: EnduranceResults | null;
  capacity?: CapacityResults | null;
  command?: string;
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
  const r: Results = { relay: null, start: null, ttff: null, join: null, latency: [], pli: null, cpu: null, narrow: null, soak: null, command: COMMAND, errors: [] };
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
    const mediaLog = new MediaStatsLog(stack);

    if (opts.only.has('relay')) {
      log('signalling relay: gateway vs bare ws');
      r.relay = await attempt('relay', () => benchRelay(stack, { latencyCount: opts.relayLatency, throughputCount: opts.relayCount, window: opts.relayWindow }, log));
    }
    if (opts.only.has('start')) {
      log(`instance start, warm spares vs none, ${opts.starts} each`);
      r.start = await attempt('start', () => benchInstanceStart(stack.NodeRuntime, { runs: opts.starts, screen: SCREEN }, log));
    }
    if (opts.only.has('pli')) {
      log(`PLI → IDR on the wire, ${opts.pli} samples`);
      r.pli = await attempt('pli', () => benchPli({ samples: opts.pli, spacingMs: opts.pliSpacing, screen: SCREEN }, log));
    }
    if (opts.only.has('cpu')) {
      log(`CPU per 720p30 stream vs ffmpeg alone, then concurrent streams (at most ${opts.cpuMaxStreams})`);
      r.cpu = await attempt('cpu', () => benchCpu(stack, chromium.browser, server, alice, mediaLog, { windowMs: opts.cpuWindow, rounds: opts.cpuRounds, maxStreams: opts.cpuMaxStreams, screen: SCREEN }, log));
    }
    if (opts.only.has('ttff')) {
      await settle(stack);
      log(`time to first frame over ${opts.sessions} sessions`);
      r.ttff = await attempt('ttff', () => benchTtff(stack, chromium.browser, server, alice, probe, { url: stack.url, token }, { sessions: opts.sessions, screen: SCREEN }, log));
    }
    if (opts.only.has('join')) {
      await settle(stack);
      log(`join → first frame over ${opts.joins} joins of one session`);
      r.join = await attempt('join', () => benchJoin(chromium.browser, server, alice, probe, { url: stack.url, token }, { joins: opts.joins, screen: SCREEN }, log));
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
    if (opts.only.has('narrow')) {
      log(`narrow link: relay-only through coturn capped at ${opts.narrowFraction} of the natural rate${opts.narrowStep ? ', then a step down and up' : ''}`);
      r.narrow = await attempt('narrow', () =>
        benchNarrow(stack.from, chromium.browser, server, { fraction: opts.narrowFraction, adaptMs: opts.narrowAdapt, measureMs: opts.narrowMeasure, step: opts.narrowStep, screen: SCREEN }, log),
      );
    }
    if (opts.only.has('soak')) {
      log(`soak: ${opts.soak} sessions one after another, each ended after its first frame`);
      const t0 = Date.now();
      const soak = await attempt('soak', () => benchTtff(stack, chromium.browser, server, alice, probe, { url: stack.url, token }, { sessions: opts.soak, screen: SCREEN, label: 'soak', settleMs: 0, logEvery: 20 }, log));
      if (soak) r.soak = { ...soak, seconds: (Date.now() - t0) / 1000 };
    }
    if (opts.only.has('endurance')) {
      await settle(stack);
      log(`endurance: ${opts.enduranceSessions} signalling sessions for ${opts.enduranceMinutes} min beside one watched stream`);
      r.endurance = await attempt('endurance', () =>
        benchEndurance(stack, { sessions: opts.enduranceSessions, minutes: opts.enduranceMinutes, sampleEveryS: 30, everyMs: opts.enduranceEveryMs, screen: SCREEN }, log),
      );
    }
  } finally {
    probe.uninstall();
    await chromium.close();
    await server.close();
    await stack.close();
  }
  // Its own processes (the real binary, in both shapes): after the in-process stack is gone.
  if (opts.only.has('capacity')) {
    if (opts.from !== 'dist') r.errors.push('capacity: needs the compiled build (BENCH_FROM=dist)');
    else {
      log(`capacity: streamstack loadtest viewers, one more at a time up to ${opts.capacityMax}, single process then split`);
      try {
        r.capacity = await benchCapacity({ maxViewers: opts.capacityMax, durationS: opts.capacityDuration, screen: SCREEN }, log);
      } catch (e) {
        r.errors.push(`capacity: ${(e as Error).message.split('\n')[0]}`);
        log(`capacity FAILED: ${(e as Error).stack}`);
      }
    }
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
  ['start', 'client: connect() called (the page made the request and connects at its answer)'],
  ['channelsCreated', 'client: peer connection and data channels created'],
  ['wsOpen', 'client: signalling socket open'],
  ['ams:started', 'AMS: instance started'],
  ['runtime:start:done#1', 'node runtime: instance start resolved (frame source and media process ready; encoding starts with the first viewer)'],
  ['ams:running', 'AMS: instance running (session active)'],
  ['discoverResp', 'client: resp:discover received'],
  ['offerReceived', 'client: offer received'],
  ['videoTrack', 'client: video track event'],
  ['answerSent', 'client: answer sent'],
  ['iceChecking', 'client: ICE checking'],
  ['iceConnected', 'client: ICE connected'],
  ['dtlsConnected', 'client: DTLS connected (connectionState)'],
  ['controlOpen', 'client: control channel open'],
  ['firstFrame', 'client: first frame presented (rVFC)'],
  ['loadedMetadata', 'client: video metadata loaded'],
];

/** Spans: [label, from ('' = the request), to]. */
const SPANS: [string, string, string][] = [
  ['request → answered', '', 'requestAnswered'],
  ['request → node runs the instance (its streamer takes signalling)', '', 'runtime:start:done#1'],
  ['socket open → resp:discover (held by the gateway until its streamer is ready)', 'wsOpen', 'discoverResp'],
  ['resp:discover → offer', 'discoverResp', 'offerReceived'],
  ['offer → answer sent (browser)', 'offerReceived', 'answerSent'],
  ['answer → ICE connected', 'answerSent', 'iceConnected'],
  ['ICE connected → DTLS connected', 'iceConnected', 'dtlsConnected'],
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
/**
 * Before a timed section: the previous section's instances are gone (their teardown would
 * share the CPUs) and the node has had a moment to boot its warm spares.
 */
async function settle(stack: Awaited<ReturnType<typeof startStack>>): Promise<void> {
  const runtime = stack.app.get(stack.NodeRuntime);
  await eventually(async () => runtime.list().length === 0, 30_000).catch(() => log(`settle: ${runtime.list().length} instance(s) still running`));
  await sleep(2000);
}

function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  } catch {
    return 'n/a';
  }
}

/** The rows of the new engine's measurements (PLI, CPU, narrow link, soak). */
function resultRows(L: string[], r: Results): void {
  if (r.pli) {
    const p = quantile(r.pli.firstPacket, 0.5);
    L.push(`| PLI → first packet of an IDR on the wire p50 / p95 (${r.pli.samples} samples, ${r.pli.missed} without an IDR) | p50 ≤ 50 ms | ${fmt(p, 1)} / ${fmt(quantile(r.pli.firstPacket, 0.95), 1)} ms | ${verdict(p, 50)} |`);
    L.push(`| (baseline) no PLI: → first packet of the next frame, p50 / p95 | | ${fmt(quantile(r.pli.nextFrame, 0.5), 1)} / ${fmt(quantile(r.pli.nextFrame, 0.95), 1)} ms | |`);
  }
  if (r.cpu) {
    for (const p of r.cpu.pairs) {
      const what = p.audio ? 'video + audio (as the SDK connects)' : 'video only';
      L.push(`| CPU per 720p30 stream, ${what}: media process / ffmpeg CLI alone (same frames, same window) | ≤ 1.2 | ${fmt(p.ratio, 2)} (${fmt(p.stack.mediaCpu, 1)} % vs ${fmt(p.baseline.ffmpegCpu, 1)} % of a core; rounds ${p.rounds.map((x) => fmt(x, 2)).join(', ')}) | ${verdict(p.ratio, 1.2)} |`);
      const perFrame = p.stack.encodedFps && p.baseline.fps ? p.stack.mediaCpu / p.stack.encodedFps / (p.baseline.ffmpegCpu / p.baseline.fps) : null;
      L.push(`| (same, per frame encoded: ${fmt(p.stack.encodedFps, 1)} fps vs ${fmt(p.baseline.fps, 1)} fps into ffmpeg) | ≤ 1.2 | ${fmt(perFrame, 2)} | ${verdict(perFrame, 1.2)} |`);
    }
    const av = r.cpu.pairs[r.cpu.pairs.length - 1];
    L.push(`| RSS per instance: media process + frame source | | ${fmt(av.stack.mediaRssMiB)} + ${fmt(av.stack.frameSourceRssMiB)} MiB (ffmpeg CLI: ${fmt(av.baseline.ffmpegRssMiB)} MiB) | |`);
    L.push(`| concurrent 720p30 streams at ≥ 28 fps decoded (each watched in Chromium on the same CPUs; tried up to ${r.cpu.maxStreams}) | | ${r.cpu.sustained} | |`);
  }
  if (r.endurance) {
    const e = r.endurance;
    for (const [what, g] of Object.entries(e.growth)) {
      const met = g.rss === null || g.fds === null ? 'n/a (gone)' : Math.max(g.rss, g.fds) < 0.1 ? 'yes' : '**no**';
      L.push(`| endurance (${e.sessions} signalling sessions and one stream, ${e.minutes} min): growth of ${what} RSS / open fds from minute ${e.warmupMinutes} to the end | < 10 % | ${pct(g.rss)} / ${pct(g.fds)} | ${met} |`);
    }
  }
  for (const s of r.capacity?.shapes ?? []) {
    const last = s.steps[s.steps.length - 1];
    const tried = last && last.at_least_28_fps < last.viewers ? `; with ${last.viewers}: ${last.at_least_28_fps} held it, mean ${fmt(last.fps_mean, 1)} fps, min ${fmt(last.fps_min, 1)}` : `; tried up to ${last?.viewers ?? 0}`;
    L.push(`| concurrent 720p30 streams at ≥ 28 fps received, \`streamstack loadtest\` (headless node-datachannel viewers on the same CPUs, ${r.capacity!.durationS} s each step), ${s.shape} | | ${s.sustained}${tried} | |`);
  }
  if (r.narrow) {
    const n = r.narrow;
    L.push(`| narrow link (relay-only via coturn max-bps = ${fmt(n.fraction * 100)} % of ${fmt(n.naturalKbps)} kb/s = ${fmt(n.capKbps)} kb/s): decoded fps after adapting | ≥ 25 | ${fmt(n.narrow.decodedFps, 1)} | ${n.narrow.decodedFps >= 25 ? 'yes' : '**no**'} |`);
    L.push(`| narrow link: freezes over the measured window | ≤ 1 s | ${fmt(n.narrow.freezeMs)} ms (${n.narrow.freezeCount}) | ${verdict(n.narrow.freezeMs, 1000)} |`);
    L.push(`| narrow link: settles at (media process sent / target), frame size; target under the cap from / for good from | | ${fmt(n.narrow.settledSentKbps)} / ${fmt(n.narrow.settledTargetKbps)} kb/s, ${n.narrow.frame}; ${fmt(n.narrow.firstUnderCapS, 0)} s / ${fmt(n.narrow.stayedUnderCapS, 0)} s after the first frame | |`);
  }
  if (r.soak) {
    const n = r.soak.samples.length + r.soak.failures.length;
    L.push(`| sessions one after another, all streaming (first frame decoded), failures | 0 | ${r.soak.failures.length}/${n} (TTFF p50 / p95 ${fmt(quantile(r.soak.samples.map((s) => s.ttff), 0.5))} / ${fmt(quantile(r.soak.samples.map((s) => s.ttff), 0.95))} ms, ${fmt(r.soak.seconds)} s in all) | ${r.soak.failures.length === 0 ? 'yes' : '**no**'} |`);
  }
}

function newSections(L: string[], r: Results): void {
  if (r.pli) {
    const p = r.pli;
    L.push('## PLI → IDR on the wire', '');
    L.push(
      'A node-datachannel receiver (`test/support/streamer-client.ts`) of a media process reading a 1280x720@30 test pattern (`test/support/media-process.ts`, ' +
        `encoder ${p.encoder}) sends a PLI, then times the first RTP packet of an IDR (SPS or IDR slice) and the IDR's last packet. Interleaved baseline: the same wait ` +
        'without a PLI, for the first packet of whatever frame comes next (the floor: the IDR on the very next frame).',
      '',
    );
    L.push('| | samples | p50 ms | p95 ms | max ms |', '|---|---|---|---|---|');
    for (const [label, v] of [['PLI → first packet of the IDR', p.firstPacket], ['PLI → last packet of the IDR', p.complete], ['no PLI → first packet of the next frame (baseline)', p.nextFrame]] as const) {
      L.push(`| ${label} | ${v.length} | ${fmt(quantile(v, 0.5), 1)} | ${fmt(quantile(v, 0.95), 1)} | ${fmt(quantile(v, 1), 1)} |`);
    }
    L.push('', `IDR size p50 ${fmt((quantile(p.idrBytes, 0.5) ?? NaN) / 1024, 1)} KiB. Ratio PLI → IDR / baseline (p50): ${fmt((quantile(p.firstPacket, 0.5) ?? NaN) / (quantile(p.nextFrame, 0.5) ?? NaN), 2)}.`, '');
  }
  if (r.cpu) {
    const c = r.cpu;
    L.push('## CPU and memory per stream', '');
    L.push(
      `Over ${fmt(c.windowMs / 1000)} s windows, CPU from \`/proc/<pid>/stat\` (100 % = one core). Two pairs, each in ${fmt(c.rounds)} rounds of a baseline then the stack, alternating in the same run (a single window of either moves by ±10 % on this shared machine); the numbers are means over the rounds. Baseline: a test-pattern frame source at 1280x720@30 whose frames this ` +
        'process reads as the media process does and pipes, as they come, into `ffmpeg -f rawvideo -pix_fmt yuv420p -s 1280x720 -r 30 -i pipe:0 -c:v libx264 -preset ultrafast -tune zerolatency ' +
        `-profile:v baseline -b:v 3M -threads ${c.pairs[0]?.baseline.threads ?? 1} -f h264 pipe:1\` (as many threads as the media engine's libx264; h264 to a pipe only to count its bitrate); ` +
        'with audio, the frame source\'s PCM also goes in (`-f s16le -ar 48000 -ac 2 -i pipe:3`) and out as the media engine encodes it (`-c:a libopus -b:a 64k -application lowdelay -frame_duration 20`, both muxed to `-f nut pipe:1`). ' +
        "Then a session watched by the test client in Chromium (video only: settings `enable_speaker: false`): the instance's media process (frame read, libx264 (+ Opus), RTP/SRTP, rate control) and frame source. " +
        "The stack's in-process part (gateway, AMS) shares the benchmark's process and only relays signalling: not counted.",
      '',
    );
    L.push('| | CPU % of a core | RSS MiB | rate | fps |', '|---|---|---|---|---|');
    for (const p of c.pairs) {
      const what = p.audio ? 'video + audio' : 'video only';
      L.push(`| ${what}: ffmpeg CLI (baseline) | ${fmt(p.baseline.ffmpegCpu, 1)} | ${fmt(p.baseline.ffmpegRssMiB)} | ${fmt(p.baseline.kbps)} kb/s | ${fmt(p.baseline.fps, 1)} in |`);
      L.push(`| ${what}: frame source feeding it | ${fmt(p.baseline.frameSourceCpu, 1)} | | | |`);
      L.push(`| ${what}: media process (${p.stack.encoder}) | ${fmt(p.stack.mediaCpu, 1)} | ${fmt(p.stack.mediaRssMiB)} | ${fmt(p.stack.sentKbps)} kb/s of video sent | ${fmt(p.stack.encodedFps, 1)} encoded, ${fmt(p.stack.decodedFps, 1)} decoded in Chromium |`);
      L.push(`| ${what}: frame source of the instance | ${fmt(p.stack.frameSourceCpu, 1)} | ${fmt(p.stack.frameSourceRssMiB)} | | |`);
    }
    L.push('', "Concurrent streams, one more session (and page) at a time; decoded fps per page over the window, the media processes' own encoded fps beside:", '');
    L.push('| streams | decoded fps (each) | encoded fps (each) | media process CPU % (each) |', '|---|---|---|---|');
    for (const x of c.concurrency) L.push(`| ${x.streams} | ${x.decodedFps.map((v) => fmt(v, 1)).join(', ')} | ${x.encodedFps.map((v) => fmt(v, 1)).join(', ')} | ${x.mediaCpu.map((v) => fmt(v, 0)).join(', ')} |`);
    L.push('');
  }
  if (r.narrow) {
    const n = r.narrow;
    L.push('## Narrow link (TURN relay with a capped rate)', '');
    L.push(
      `Relay-only Chromium (\`iceTransportPolicy: 'relay'\`) through a real coturn on loopback; the streamer's ICE binds 127.0.0.1. Natural rate first, through an uncapped coturn: ` +
        `${fmt(n.naturalKbps)} kb/s received (video ${fmt(n.naturalVideoKbps)} kb/s; the media process sent ${fmt(n.naturalSentKbps)} kb/s of video) after 10 s. ` +
        `Then a fresh session through a coturn with \`max-bps\` = ${fmt(n.capKbps)} kb/s (${fmt(n.fraction * 100)} %, all of the session's traffic: video, audio, RTCP): ` +
        `adapting for the first seconds, then measured. Per second (t = s after the first frame; target / sent from the media process's stats, the rest from getStats):`,
      '',
    );
    const table = (tl: typeof n.narrow.timeline) => {
      L.push('| t s | target kb/s | sent kb/s | REMB for video kb/s | loss % (smoothed) | encoded width | encoded fps | received kb/s | NACKs | decoded fps | freeze ms |', '|---|---|---|---|---|---|---|---|---|---|---|');
      for (const p of tl) {
        L.push(
          `| ${fmt(p.t, 0)} | ${fmt(p.targetKbps)} | ${fmt(p.sentKbps)} | ${fmt(p.estimateKbps)} | ${fmt(p.lossPct, 1)} | ${fmt(p.width)} | ${fmt(p.fps)} | ${fmt(p.receivedKbps)} | ${fmt(p.nacks)} | ${fmt(p.decodedFps, 1)} | ${fmt(p.freezeMs)} |`,
        );
      }
      L.push('');
    };
    table(n.narrow.timeline);
    if (n.step) {
      L.push(
        `### Step down and back up`,
        '',
        "coturn's `max-bps` is per server and fixed for an allocation, so a step within one session cannot be made with coturn alone (restarting it loses the allocation; " +
          'moving to a second coturn needs an ICE restart). The step is made by a UDP shaper (`bench/udp-shaper.ts`) between Chromium and an uncapped coturn: ' +
          `unshaped, then ${fmt(n.capKbps)} kb/s from t = ${n.step.downAtS} s (queue of 100 ms, then drops), unshaped again from t = ${n.step.upAtS} s. ${n.step.shaperDrops} packets dropped.`,
        '',
      );
      table(n.step.timeline);
      const down = n.step.timeline.find((p) => p.t > n.step!.downAtS && p.targetKbps !== null && p.targetKbps <= n.capKbps);
      const up = n.step.timeline.find((p) => p.t > n.step!.upAtS && p.sentKbps !== null && p.sentKbps >= 0.9 * (n.naturalSentKbps ?? Infinity));
      const phase = (a: number, b: number) => n.step!.timeline.filter((p) => p.t > a && p.t <= b);
      const fpsOf = (ps: typeof n.narrow.timeline) => (ps.length ? ps.reduce((x, p) => x + p.decodedFps, 0) / ps.length : null);
      const frz = (ps: typeof n.narrow.timeline) => ps.reduce((x, p) => x + p.freezeMs, 0);
      L.push(
        `Step down: target under the cap ${down ? `${fmt(down.t - n.step.downAtS, 0)} s` : 'never'} after it; ${fmt(fpsOf(phase(n.step.downAtS, n.step.upAtS)), 1)} fps decoded and ${fmt(frz(phase(n.step.downAtS, n.step.upAtS)))} ms of freezes while narrow. ` +
          `Back up: sent rate back to 90 % of the natural ${up ? `${fmt(up.t - n.step.upAtS, 0)} s` : 'not within the window'} after it; ${fmt(fpsOf(phase(n.step.upAtS, 1e9)), 1)} fps decoded afterwards.`,
        '',
      );
    }
  }
  if (r.soak) {
    const s = r.soak;
    L.push('## Soak: sessions one after another', '');
    L.push(
      `${s.samples.length + s.failures.length} sessions, each \`POST /1.0/sessions\` → first frame presented in a fresh page → page closed and session deleted (its processes ` +
        `gone, at most 10 s) → the next, in ${fmt(s.seconds)} s. TTFF p50 / p95 / max ${fmt(quantile(s.samples.map((x) => x.ttff), 0.5))} / ${fmt(quantile(s.samples.map((x) => x.ttff), 0.95))} / ${fmt(quantile(s.samples.map((x) => x.ttff), 1))} ms.`,
      '',
    );
    if (s.failures.length) L.push('Failures:', '', ...s.failures.map((f) => `- ${f}`), '');
    else L.push('No failures.', '');
  }
  if (r.endurance) {
    const e = r.endurance;
    const names = Object.keys(e.samples[0]?.rssMiB ?? {});
    L.push('## Endurance: signalling sessions held for minutes, one stream watched', '');
    L.push(
      `${e.sessions} sessions held open for ${e.minutes} min (their clients in a process of their own, one \`candidate\` echoed by a fake instance every ${fmt(opts.enduranceEveryMs)} ms per session: ` +
        `${e.load.sent} sent, ${e.load.echoed} echoed, round trip p50 / p99 ${fmt(e.load.rtt.p50, 1)} / ${fmt(e.load.rtt.p99, 1)} ms, ${e.load.errors} errors, ${e.load.open}/${e.load.sockets} sockets reached the offer, ${e.load.closed} closed before the end), ` +
        `beside one real 720p30 stream watched by a \`streamstack loadtest\` viewer (first keyframe ${fmt(e.streamed.ttffMs)} ms, ${fmt(e.streamed.fps, 1)} fps over the run${e.streamed.error ? `, error: ${e.streamed.error}` : ''}). ` +
        `Resident memory (MiB) and open file descriptors of each process; growth is counted from minute ${e.warmupMinutes} (the warm-up) to the end.`,
      '',
    );
    L.push(`| minute | ${names.map((n) => `${n} RSS / fds`).join(' | ')} | stream fps |`, `|---|${names.map(() => '---|').join('')}---|`);
    const every = Math.max(1, Math.round(e.samples.length / 12));
    for (const [i, s] of e.samples.entries()) {
      if (i % every !== 0 && i !== e.samples.length - 1) continue;
      L.push(`| ${fmt(s.minute, 1)} | ${names.map((n) => `${fmt(s.rssMiB[n], 0)} / ${fmt(s.fds[n])}`).join(' | ')} | ${fmt(s.sampleFps, 1)} |`);
    }
    L.push('');
  }
}

const pct = (v: number | null) => (v === null ? '-' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)} %`);

function render(m: ReturnType<typeof machine>, from: 'dist' | 'src', r: Results, load: string, ranAt: string): string {
  const L: string[] = [];
  const ttffs = r.ttff?.samples.map((s) => s.ttff) ?? [];
  const joins = r.join?.samples.map((s) => s.ttff) ?? [];
  const lat = r.latency[0] ?? null;
  L.push('# Benchmarks', '');
  L.push(`Command: \`${r.command ?? COMMAND}\` (the package.json script is \`${SCRIPT}\`; without it: \`npx ${SCRIPT}\`), run ${ranAt}.`, '');
  L.push(`Machine: ${m.nproc} CPUs (\`nproc\`), ${m.cpu}, ${m.memoryGiB} GiB RAM, Linux ${m.kernel}; Node ${m.node}; ${m.chromium} (headless, software decoding); ${m.ffmpeg}. 1-minute load average ${load}.`, '');
  L.push(
    'Setup: the monolith (every role in one process, in-process transport, SQLite), loopback only, `test-pattern` instances at ' +
      `${SCREEN.width}x${SCREEN.height}@${SCREEN.fps}, the SDK-compatible test client (\`test/client/\`) in Chromium on the same machine ` +
      '(browser, stack, frame source and media process share the CPUs). Sessions are made one at a time with `POST /1.0/sessions` by a client account, from the page itself (a cross-origin `fetch`, CORS preflight included), which connects the moment it answers, as an application\'s page does. ' +
      (from === 'dist'
        ? 'The stack runs compiled (`nest build` into a private directory), so instance processes start as plain `node`, as with `npm start`.'
        : 'The stack runs from the TypeScript sources (`BENCH_FROM=src`): instance processes start through ts-node, which adds over a second to each start.'),
    '',
  );
  L.push('## Results', '');
  L.push('| metric | target | result | met |', '|---|---|---|---|');
  const p50 = quantile(ttffs, 0.5);
  const p95 = quantile(ttffs, 0.95);
  if (r.ttff) {
    L.push(`| time to first frame p50, \`POST /1.0/sessions\` → first frame (${ttffs.length} sessions) | ≤ 300 ms | ${fmt(p50)} ms | ${verdict(p50, 300)} |`);
    L.push(`| time to first frame p95 | ≤ 600 ms | ${fmt(p95)} ms | ${verdict(p95, 600)} |`);
    const dtls = quantile(r.ttff.samples.map((s) => span(s.at, 'dtlsConnected', 'firstFrame')).filter((v): v is number => v !== undefined), 0.5);
    const ttffN = ttffs.length + r.ttff.failures.length;
    L.push(`| time to first frame: failures | 0 | ${r.ttff.failures.length}/${ttffN} | ${r.ttff.failures.length === 0 && ttffN >= 40 ? 'yes' : ttffN < 40 ? `**no** (${ttffN} < 40 sessions)` : '**no**'} |`);
    L.push(`| DTLS connected → first frame presented p50 | ≤ 60 ms | ${fmt(dtls)} ms | ${verdict(dtls, 60)} |`);
  }
  if (joins.length) L.push(`| (for reference) join → first frame p50 / p95, instance already running (${joins.length} joins) | | ${fmt(quantile(joins, 0.5))} / ${fmt(quantile(joins, 0.95))} ms | |`);
  if (lat) L.push(`| capture-to-display latency p50 (${lat?.samples ?? 0} frames, ${lat?.label ?? 'n/a'}) | ≤ 20 ms | ${fmt(lat?.latency.p50 ?? null, 1)} ms | ${verdict(lat?.latency.p50 ?? null, 20)} |`);
  if (lat) L.push(`| capture-to-display latency p95 | ≤ 35 ms | ${fmt(lat?.latency.p95 ?? null, 1)} ms | ${verdict(lat?.latency.p95 ?? null, 35)} |`);
  resultRows(L, r);
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
        '"strip → last packet of the frame received" (frame source hand-off, encode, RTP packetizing, SRTP, loopback) and "received → presented" ' +
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
  newSections(L, r);
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
    const start = p50(t, (a) => a['runtime:start:done#1']);
    const after = p50(t, (a) => span(a, 'runtime:start:done#1', 'firstFrame'));
    const dtls = p50(t, (a) => span(a, 'dtlsConnected', 'firstFrame'));
    const ice = p50(t, (a) => span(a, 'answerSent', 'dtlsConnected'));
    notes.push(
      `Time to first frame: of ${fmt(total)} ms (p50), ${fmt(start)} ms pass before the node runs the instance (its processes start; the gateway holds the ` +
        `client's discover until its streamer is ready) and ${fmt(after)} ms from there to the first frame: answer → DTLS connected ${fmt(ice)} ms, DTLS connected → first frame ` +
        `${fmt(dtls)} ms (the media process forces an IDR when the video track opens; then encode, send, decode, present).`,
    );
  }
  for (const [name, t] of [['fresh sessions', r.ttff], ['joins', r.join]] as const) {
    if (!t?.samples.length) continue;
    const slow = t.samples.filter((s) => s.at.dtlsConnected !== undefined && s.ttff - s.at.dtlsConnected > 1000);
    if (slow.length) {
      notes.push(
        `Stalls (${name}): in ${slow.length}/${t.samples.length} runs the first frame came ${slow.map((s) => fmt(s.ttff - s.at.dtlsConnected)).join(', ')} ms after DTLS connected, ` +
          'the IDR forced when the video track opened did not reach the viewer in time (it then waits for a PLI-forced one or the periodic one).',
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
      `Without audio, the frame reaches the browser ${fmt(videoOnly.receive.p50, 1)} ms (p50) after the frame source stamped it (encode, packetizing, SRTP, loopback, on a ` +
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
