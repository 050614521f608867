import { Command, CommandRunner } from 'nest-commander';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/config.loader';

/** Prints the OpenAPI document of every route (all roles), as the server serves it at /docs-json. */
@Command({ name: 'openapi', description: 'Print the OpenAPI document (JSON)' })
export class OpenApiCommand extends CommandRunner {
  async run(): Promise<void> {
    const dataDir = mkdtempSync(join(tmpdir(), 'streamstack-openapi-'));
    try {
      process.stdout.write(`${JSON.stringify(await buildOpenApiDocument(dataDir), null, 2)}\n`);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
}

/** Builds the document from the same app the server runs, on a throwaway in-memory database. */
export async function buildOpenApiDocument(dataDir: string) {
  const config = loadConfig({}, { STREAMSTACK_DATA_DIR: dataDir, STREAMSTACK_DATABASE_URL: 'sqlite::memory:', STREAMSTACK_LOG_LEVEL: 'silent' });
  const { createApp, openApiDocument } = await import('../bootstrap');
  const app = await createApp(config, { logger: false, skipTransport: true });
  try {
    return openApiDocument(app);
  } finally {
    await app.close();
  }
}
