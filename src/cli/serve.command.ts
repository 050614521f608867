import { Logger } from '@nestjs/common';
import { Command, CommandRunner, Option } from 'nest-commander';
import { chmodSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from '../config/config.loader';
import { SERVE_FLAGS } from './config-options';

@Command({ name: 'serve', description: 'Run the roles asked for (all of them by default) in this process', options: { isDefault: true } })
export class ServeCommand extends CommandRunner {
  async run(_args: string[], flags: Record<string, string>): Promise<void> {
    let config;
    try {
      config = loadConfig(flags);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      process.stderr.write(`streamstack: ${e.message}\n`);
      process.exit(2);
    }
    // The data directory holds the database, the signalling key and every instance's files:
    // this user's alone (0700), and so is everything the server writes (umask 077).
    process.umask(0o077);
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    chmodSync(config.dataDir, 0o700);
    const derivedUrl = !flags['public-url'] && !process.env.STREAMSTACK_PUBLIC_URL;
    // Loaded here, not at the top: the remote verbs share this module and need none of it.
    const { createApp } = await import('../bootstrap');
    const { BootstrapAdmin } = await import('../gateway/accounts/bootstrap-admin');
    let app: Awaited<ReturnType<typeof createApp>>;
    try {
      app = await createApp(config);
      await app.listen(config.port, config.host);
    } catch (e) {
      // Open connections (the database, NATS) would keep a process that serves nothing alive,
      // and whatever supervises it would never learn: exit, saying why.
      process.stderr.write(`streamstack: could not start: ${(e as Error).stack ?? e}\n`);
      process.exit(1);
    }
    const { port } = app.getHttpServer().address() as AddressInfo;
    if (derivedUrl && port !== config.port) config.publicUrl = config.publicUrl.replace(/:\d+$/, `:${port}`);

    const logger = new Logger('serve');
    // Ctrl-C / SIGTERM: close every module (instances stop, connections close), then exit 0.
    // A second signal while closing exits at once. Installed before the ready line is printed:
    // a signal in between would have killed the process with nothing closed.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        process.once(signal, () => process.exit(130));
        logger.log(`${signal}: shutting down`);
        app.close().then(
          () => process.exit(0),
          (e: unknown) => {
            logger.error(`shutdown failed: ${String(e)}`);
            process.exit(1);
          },
        );
      });
    }
    const lines = [
      `streamstack is serving ${config.roles.join(', ')} (transport ${config.transport}, data in ${config.dataDir})`,
      `  URL:      ${config.publicUrl}`,
      `  API docs: ${config.publicUrl}/docs`,
    ];
    // Only a gateway has one: asking Nest for it elsewhere logged a false level-50 error.
    const token = config.roles.includes('gateway') ? app.get(BootstrapAdmin, { strict: false }).createdToken : null;
    if (token) lines.push(`  Admin token (shown once; keep it, or set STREAMSTACK_ADMIN_TOKEN): ${token}`);
    process.stdout.write(`${lines.join('\n')}\n  Stop with Ctrl-C.\n`);
    logger.log(`listening on ${config.host}:${port}`);
  }
}

// Each flag of the configuration contract becomes an option of `serve`.
for (const flag of SERVE_FLAGS) {
  const method = `parse_${flag.name.replace(/-/g, '_')}`;
  Object.defineProperty(ServeCommand.prototype, method, { value: (v: string) => v, writable: true });
  const descriptor = Object.getOwnPropertyDescriptor(ServeCommand.prototype, method)!;
  Option({ flags: flag.flags, description: flag.description, name: flag.name })(ServeCommand.prototype, method, descriptor);
}
