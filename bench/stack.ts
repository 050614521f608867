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
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
  const { createApp } = load('src/bootstrap');
  const { loadConfig } = load('src/config/config.loader');
  const { NodeRuntime } = load('src/node/runtime/node-runtime.service');
  const { SessionsService } = load('src/gateway/sessions/sessions.service');
  const { LocalBus, RpcClient } = load('libs/transport/src');

  const dataDir = mkdtempSync(join(tmpdir(), 'streamstack-bench-'));
  const config = loadConfig(
    {},
    {
      STREAMSTACK_PORT: '0',
      STREAMSTACK_ADMIN_TOKEN: ADMIN_TOKEN,
      STREAMSTACK_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      ...env,
      STREAMSTACK_DATA_DIR: dataDir,
    },
  );
  const app = await createApp(config, {});
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  config.publicUrl = url;
  return {
    app,
    url,
    NodeRuntime,
    SessionsService,
    LocalBus,
    RpcClient,
    from,
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
