import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { createApp } from '../../src/bootstrap';
import { PinoLogger } from '../../src/common/logging/pino-logger';
import { loadConfig } from '../../src/config/config.loader';
import type { StreamstackConfig } from '../../src/config/config.schema';

export const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef';

export interface RunningApp {
  app: NestExpressApplication;
  config: StreamstackConfig;
  url: string;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * Starts the real stack in this process, listening on a free loopback port, with its own data
 * dir and the bootstrap admin token above. `env` overrides any STREAMSTACK_* key.
 */
export async function startApp(env: Record<string, string> = {}, options: { logSink?: Writable; keepData?: boolean } = {}): Promise<RunningApp> {
  const dataDir = env.STREAMSTACK_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'streamstack-e2e-'));
  const config = loadConfig(
    {},
    {
      STREAMSTACK_PORT: '0',
      STREAMSTACK_ADMIN_TOKEN: ADMIN_TOKEN,
      STREAMSTACK_LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn',
      ...env,
      STREAMSTACK_DATA_DIR: dataDir,
    },
  );
  const logger = options.logSink ? new PinoLogger(config.logLevel, options.logSink) : undefined;
  const app = await createApp(config, { logger });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  config.publicUrl = url;
  return {
    app,
    config,
    url,
    dataDir,
    async close() {
      await app.close();
      if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Collects log lines written by a PinoLogger. */
export function logCollector(): { sink: Writable; lines: string[] } {
  const lines: string[] = [];
  const { Writable: W } = require('node:stream') as typeof import('node:stream');
  const sink = new W({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { sink, lines };
}
