/**
 * The stack under benchmark, in this process, from compiled JavaScript by default.
 *
 * Why not from the TypeScript sources as the e2e tests do: run from `src/`, every child process
 * of an instance (frame source, streamer) starts through ts-node, which adds about 1.5 s to each
 * instance start and is not what `npm start` runs. So the benchmark compiles the project with
 * the Nest CLI into a private directory (node_modules/.cache/streamstack-bench/dist, never
 * ./dist, which other tools may be using) and loads everything from there; children then run as
 * plain `node`. `BENCH_FROM=src` benchmarks the sources instead.
 *
 * The classes used with `app.get()` must come from the same build as the app, hence this module.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { bootStack } from '../test/support/boot';

export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
const ROOT = join(__dirname, '..');
export const BENCH_DIST = join(ROOT, 'node_modules', '.cache', 'streamstack-bench', 'dist');

export interface Stack {
  app: any;
  url: string;
  close(): Promise<void>;
  /** Classes and helpers from the same build as `app`. */
  NodeRuntime: any;
  SessionsService: any;
  LocalBus: any;
  RpcClient: any;
  from: 'dist' | 'src';
}

/** Compiles the project into BENCH_DIST with the Nest CLI (path aliases rewritten as in ./dist). */
export function buildForBench(log: (s: string) => void): void {
  const t0 = Date.now();
  execFileSync(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build', '-p', 'bench/tsconfig.dist.json'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  log(`compiled into ${BENCH_DIST} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

export async function startStack(from: 'dist' | 'src', env: Record<string, string> = {}): Promise<Stack> {
  const base = from === 'dist' ? BENCH_DIST : ROOT;
  const load = (path: string) => require(join(base, path));
  const build = { createApp: load('src/bootstrap').createApp, loadConfig: load('src/config/config.loader').loadConfig };
  const { LocalBus, RpcClient } = load('libs/transport/src');
  const running = await bootStack(build, ADMIN_TOKEN, env, { logLevel: process.env.BENCH_LOG_LEVEL ?? 'warn', dirPrefix: 'streamstack-bench-' });
  return {
    app: running.app,
    url: running.url,
    NodeRuntime: load('src/node/runtime/node-runtime.service').NodeRuntime,
    SessionsService: load('src/gateway/sessions/sessions.service').SessionsService,
    LocalBus,
    RpcClient,
    from,
    close: () => running.close(),
  };
}
