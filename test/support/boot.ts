import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { createApp, CreateAppOptions } from '../../src/bootstrap';
import type { loadConfig } from '../../src/config/config.loader';
import type { StreamstackConfig } from '../../src/config/config.schema';

/*
 * Booting the whole stack in this process, shared by the e2e tests (from the sources) and the
 * benchmark (from a compiled copy). Type imports only: the build to boot is a parameter.
 */

export interface RunningApp {
  app: NestExpressApplication;
  config: StreamstackConfig;
  url: string;
  dataDir: string;
  close(): Promise<void>;
}

/** What booting takes from a build of the project: the sources (tests) or a compiled copy (the bench). */
export interface StackBuild {
  createApp: typeof createApp;
  loadConfig: typeof loadConfig;
}

/**
 * Starts the stack of `build` in this process, listening on a free loopback port, with its own
 * data dir (unless `env` names one) and the bootstrap admin token `adminToken`. `env`
 * overrides any STREAMSTACK_* key.
 */
export async function bootStack(
  build: StackBuild,
  adminToken: string,
  env: Record<string, string>,
  options: { logger?: CreateAppOptions['logger']; keepData?: boolean; logLevel: string; dirPrefix: string },
): Promise<RunningApp> {
  const dataDir = env.STREAMSTACK_DATA_DIR ?? mkdtempSync(join(tmpdir(), options.dirPrefix));
  const config = build.loadConfig(
    {},
    { STREAMSTACK_PORT: '0', STREAMSTACK_ADMIN_TOKEN: adminToken, STREAMSTACK_LOG_LEVEL: options.logLevel, ...env, STREAMSTACK_DATA_DIR: dataDir },
  );
  const app = await build.createApp(config, { logger: options.logger });
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

