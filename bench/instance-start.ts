/**
 * Instance start on the node runtime alone, with warm spares and without, alternating in one
 * run so that both see the same machine: `runtime.start()` of a streaming test-pattern
 * instance (frame source + media process, which encodes only while watched) until it resolves (both have reported
 * ready). No browser, no gateway: the part of time to first frame the spares change.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quantile, sleep } from './lib';

export interface InstanceStartResults {
  runs: number;
  warm: number[];
  cold: number[];
}

/** Time between starts: the spare taken by the last start is booted again meanwhile. */
const SETTLE_MS = 3000;

export async function benchInstanceStart(
  NodeRuntime: any,
  opts: { runs: number; screen: { width: number; height: number; fps: number } },
  log: (s: string) => void,
): Promise<InstanceStartResults> {
  const dir = mkdtempSync(join(tmpdir(), 'streamstack-bench-start-'));
  const warm = new NodeRuntime({ dataDir: join(dir, 'warm'), warmSpares: true });
  const cold = new NodeRuntime({ dataDir: join(dir, 'cold'), warmSpares: false });
  warm.onApplicationBootstrap();
  const results: InstanceStartResults = { runs: opts.runs, warm: [], cold: [] };
  try {
    // Run -1 is a warm-up of each runtime (its first start loads node-av and probes encoders); not counted.
    for (let i = -1; i < opts.runs; i++) {
      // Alternate which goes first, so that neither always follows the other's teardown.
      const order = i % 2 === 0 ? (['warm', 'cold'] as const) : (['cold', 'warm'] as const);
      for (const kind of order) {
        await sleep(SETTLE_MS);
        const runtime = kind === 'warm' ? warm : cold;
        const id = `bench-${kind}-${i}`;
        const t0 = performance.now();
        await runtime.start({
          instance_id: id,
          app: 'pattern',
          app_version: 1,
          kind: 'test-pattern',
          display: opts.screen,
          encoder: { codec: 'h264', bitrate_kbps: 4000, gop: 60 },
          session_id: `session-${id}`,
        });
        const ms = performance.now() - t0;
        if (i >= 0) results[kind].push(ms);
        await runtime.stop(id);
      }
      if (i >= 0) log(`instance start ${i + 1}/${opts.runs}: warm ${results.warm.at(-1)!.toFixed(0)} ms, cold ${results.cold.at(-1)!.toFixed(0)} ms`);
    }
  } finally {
    await Promise.all([warm.shutdown(), cold.shutdown()]);
    rmSync(dir, { recursive: true, force: true });
  }
  log(`instance start p50: warm ${quantile(results.warm, 0.5)?.toFixed(0)} ms, cold ${quantile(results.cold, 0.5)?.toFixed(0)} ms`);
  return results;
}
