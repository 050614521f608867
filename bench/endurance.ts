/**
 * Endurance: many signalling sessions held for minutes, with one real stream watched throughout,
 * while the resident memory and open file descriptors of every process are sampled. What grows
 * after the warm-up is what leaks.
 *
 * The sessions are the relay benchmark's (a fake instance on the in-process bus answers each
 * client, echoing its candidates); their clients run in bench/endurance-load.js, a process of
 * its own. The stream is a real test-pattern session, watched by a `streamstack loadtest`
 * viewer (node-datachannel) in this process.
 */
import { execFile } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sleep } from './lib';
import { cmdline, rssMiB } from './procfs';
import { gatewaySession } from './relay';
import { ADMIN_TOKEN, BENCH_DIST, type Stack } from './stack';

const run = promisify(execFile);

export interface EnduranceSample {
  minute: number;
  /** Per process (label → value). */
  rssMiB: Record<string, number | null>;
  fds: Record<string, number | null>;
  /** The watched stream's frame rate over the last interval. */
  sampleFps: number | null;
}

export interface EnduranceResults {
  sessions: number;
  minutes: number;
  warmupMinutes: number;
  samples: EnduranceSample[];
  /** After the warm-up, last sample / first: per process. */
  growth: Record<string, { rss: number | null; fds: number | null }>;
  load: { sockets: number; open: number; sent: number; echoed: number; errors: number; closed: number; rtt: { p50: number | null; p99: number | null; max: number | null } };
  streamed: { ttffMs: number | null; fps: number | null; error: string | null };
}

function fdCount(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

export async function benchEndurance(
  stack: Stack,
  opts: { sessions: number; minutes: number; sampleEveryS: number; everyMs: number; screen: { width: number; height: number; fps: number } },
  log: (s: string) => void,
): Promise<EnduranceResults> {
  const sessions = [];
  for (let i = 0; i < opts.sessions; i++) sessions.push(await gatewaySession(stack, `endurance-${i}`));
  log(`endurance: ${sessions.length} signalling sessions made`);

  // The watched stream: a viewer from the same build as the stack.
  const { Viewer } = require(join(BENCH_DIST, 'src', 'cli', 'loadtest', 'viewer'));
  const { ApiClient } = require(join(BENCH_DIST, 'src', 'cli', 'remote', 'api-client'));
  const viewer = new Viewer(1, new ApiClient(stack.url, ADMIN_TOKEN), { app: 'pattern', screen: opts.screen });
  await viewer.start();

  const configFile = join(tmpdir(), `streamstack-endurance-${process.pid}.json`);
  writeFileSync(configFile, JSON.stringify({ urls: sessions.map((s) => s.url), seconds: opts.minutes * 60, everyMs: opts.everyMs }));
  const loader = run(process.execPath, [join(__dirname, 'endurance-load.js'), configFile], { timeout: (opts.minutes * 60 + 120) * 1000 });
  const loaderPid = loader.child.pid!;

  const processes = (): Record<string, number> => {
    const out: Record<string, number> = { stack: process.pid, 'load generator': loaderPid };
    const runtime = stack.app.get(stack.NodeRuntime);
    for (const { pids } of runtime.list()) {
      for (const pid of pids) out[/streamer/.test(cmdline(pid)) ? 'media process' : 'frame source'] = pid;
    }
    return out;
  };
  const samples: EnduranceSample[] = [];
  const t0 = performance.now();
  let lastFrames = viewer.video.frames;
  let lastAt = t0;
  for (let s = 0; s * opts.sampleEveryS <= opts.minutes * 60; s++) {
    if (s > 0) await sleep(t0 + s * opts.sampleEveryS * 1000 - performance.now());
    const now = performance.now();
    const pids = processes();
    const frames = viewer.video.frames;
    samples.push({
      minute: Number(((now - t0) / 60_000).toFixed(2)),
      rssMiB: Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, rssMiB(pid)])),
      fds: Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, fdCount(pid)])),
      sampleFps: s === 0 ? null : Number((((frames - lastFrames) * 1000) / (now - lastAt)).toFixed(1)),
    });
    lastFrames = frames;
    lastAt = now;
    if (s % Math.max(1, Math.round(60 / opts.sampleEveryS)) === 0) {
      const last = samples[samples.length - 1];
      log(`endurance ${last.minute} min: stack ${last.rssMiB.stack?.toFixed(0)} MiB / ${last.fds.stack} fds, media ${last.rssMiB['media process']?.toFixed(0)} MiB, stream ${last.sampleFps ?? '-'} fps`);
    }
  }

  const load = JSON.parse((await loader).stdout.trim().split('\n').pop()!);
  const result = await viewer.stop();
  for (const s of sessions) await s.stop();

  const warmupMinutes = Math.min(2, opts.minutes / 5);
  const after = samples.filter((s) => s.minute >= warmupMinutes);
  const first = after[0];
  const last = after[after.length - 1];
  const ratio = (a: number | null | undefined, b: number | null | undefined) => (a && b ? b / a - 1 : null);
  const growth: EnduranceResults['growth'] = {};
  for (const k of Object.keys(first?.rssMiB ?? {})) growth[k] = { rss: ratio(first.rssMiB[k], last.rssMiB[k]), fds: ratio(first.fds[k], last.fds[k]) };
  return {
    sessions: sessions.length,
    minutes: opts.minutes,
    warmupMinutes,
    samples,
    growth,
    load,
    streamed: { ttffMs: result.ttff_ms, fps: result.fps, error: result.error },
  };
}
