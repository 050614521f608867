/**
 * How many 720p30 streams this node sustains at >= 28 fps, measured with `streamstack loadtest`
 * (headless node-datachannel viewers, no browser) against the real binary in both shapes: one
 * process with every role, and split over a nats-server (gateway + agent + AMS in one process,
 * the node in another). Viewers go up one at a time until one of them falls below 28 fps; the
 * loadtest client runs on the same CPUs, as the browser does in the other benchmarks.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, startNatsServer } from '../libs/transport/src/testing/nats-server';
import { eventually } from '../test/support/app';
import { client } from '../test/support/http';
import { testPatternManifest } from '../test/support/packages';
import { ADMIN_TOKEN, BENCH_DIST } from './stack';

const run = promisify(execFile);

export interface CapacityStep {
  viewers: number;
  at_least_28_fps: number;
  fps_mean: number | null;
  fps_min: number | null;
  ttff_p50_ms: number | null;
  failed: number;
}

export interface CapacityResults {
  shapes: Array<{ shape: 'single process' | 'split over NATS'; sustained: number; steps: CapacityStep[] }>;
  durationS: number;
  screen: { width: number; height: number; fps: number };
}

export async function benchCapacity(
  opts: { maxViewers: number; durationS: number; screen: { width: number; height: number; fps: number } },
  log: (s: string) => void,
): Promise<CapacityResults> {
  const out: CapacityResults = { shapes: [], durationS: opts.durationS, screen: opts.screen };
  for (const shape of ['single process', 'split over NATS'] as const) {
    const stack = await startShape(shape);
    try {
      const admin = client(stack.url, ADMIN_TOKEN);
      await eventually(async () => (await admin('GET', '/1.0/status')).status === 200, 30_000);
      await eventually(async () => (await admin('GET', '/ams/1.0/nodes')).body.metadata?.length === 1, 30_000);
      const app = await admin('POST', '/ams/1.0/applications', { body: testPatternManifest('pattern', { display: opts.screen }) });
      if (app.status >= 300) throw new Error(`could not create the application: ${JSON.stringify(app.body)}`);
      const steps: CapacityStep[] = [];
      let sustained = 0;
      for (let n = 1; n <= opts.maxViewers; n++) {
        const step = await loadtest(stack.url, n, opts);
        steps.push(step);
        log(`capacity (${shape}): ${n} viewer(s): ${step.at_least_28_fps} at >= 28 fps, mean ${step.fps_mean}, min ${step.fps_min}, failed ${step.failed}`);
        if (step.at_least_28_fps < n) break;
        sustained = n;
      }
      out.shapes.push({ shape, sustained, steps });
    } finally {
      await stack.stop();
    }
  }
  return out;
}

async function loadtest(url: string, viewers: number, opts: { durationS: number; screen: { width: number; height: number; fps: number } }): Promise<CapacityStep> {
  const { width, height, fps } = opts.screen;
  const args = ['loadtest', 'pattern', '--viewers', String(viewers), '--rate', '2', '--duration', String(opts.durationS), '--screen', `${width}x${height}@${fps}`, '--json', '--url', url, '--token', ADMIN_TOKEN];
  let stdout: string;
  try {
    stdout = (await run(process.execPath, [join(BENCH_DIST, 'src', 'main.js'), ...args], { timeout: (opts.durationS + 60 + viewers * 30) * 1000 })).stdout;
  } catch (e) {
    // Exit code 1 when a viewer failed: its JSON is still the answer.
    stdout = (e as { stdout?: string }).stdout ?? '';
    if (!stdout) throw e;
  }
  const { summary } = JSON.parse(stdout);
  return {
    viewers,
    at_least_28_fps: summary.at_least_28_fps,
    fps_mean: summary.fps.mean,
    fps_min: summary.fps.min,
    ttff_p50_ms: summary.ttff_ms.p50,
    failed: summary.failed,
  };
}

/** The real binary (the bench's build) in one shape; resolves once it listens. */
async function startShape(shape: 'single process' | 'split over NATS'): Promise<{ url: string; stop(): Promise<void> }> {
  const procs: ChildProcess[] = [];
  const dirs: string[] = [];
  const serve = async (roles: string | null, env: Record<string, string>) => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'streamstack-capacity-'));
    dirs.push(dir);
    const args = [join(BENCH_DIST, 'src', 'main.js'), 'serve', '--port', String(port), '--data-dir', dir, '--log-level', 'warn', ...(roles ? ['--role', roles] : [])];
    procs.push(spawn(process.execPath, args, { env: { ...process.env, STREAMSTACK_ADMIN_TOKEN: ADMIN_TOKEN, ...env }, stdio: ['ignore', 'ignore', 'inherit'] }));
    return `http://127.0.0.1:${port}`;
  };
  let nats: Awaited<ReturnType<typeof startNatsServer>> | null = null;
  let url: string;
  if (shape === 'single process') {
    url = await serve(null, {});
  } else {
    nats = await startNatsServer();
    const bus = { STREAMSTACK_TRANSPORT: 'nats', STREAMSTACK_NATS_SERVERS: nats.url };
    url = await serve('gateway,agent,ams', bus);
    await serve('node', bus);
  }
  return {
    url,
    async stop() {
      await Promise.all(
        procs.map(
          (p) =>
            new Promise<void>((resolve) => {
              if (p.exitCode !== null) return resolve();
              p.once('exit', () => resolve());
              p.kill('SIGTERM');
            }),
        ),
      );
      await nats?.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}
