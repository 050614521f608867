import type { Writable } from 'node:stream';
import { createApp } from '../../src/bootstrap';
import { PinoLogger } from '../../src/common/logging/pino-logger';
import { loadConfig } from '../../src/config/config.loader';
import { bootStack, type RunningApp } from './boot';

export type { RunningApp } from './boot';

export const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef';

/** The real stack from the sources, as `bootStack` starts it, with the e2e admin token. */
export async function startApp(env: Record<string, string> = {}, options: { logSink?: Writable; keepData?: boolean } = {}): Promise<RunningApp> {
  const logLevel = env.STREAMSTACK_LOG_LEVEL ?? process.env.E2E_LOG_LEVEL ?? 'warn';
  const logger = options.logSink ? new PinoLogger(logLevel, options.logSink) : undefined;
  return bootStack({ createApp, loadConfig }, ADMIN_TOKEN, env, { logger, keepData: options.keepData, logLevel, dirPrefix: 'streamstack-e2e-' });
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
