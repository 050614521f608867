import { startNatsServer, type NatsServerHandle } from '@streamstack/transport/testing';
import { RunningApp, startApp } from './app';

/**
 * The split shape in this test process: apps with a few roles each, over their own nats-server.
 * `stop()` closes every app still open (newest first) and the server; an app or the server a
 * test stops itself is simply skipped.
 */
export class SplitShape {
  nats!: NatsServerHandle;
  private readonly open = new Set<RunningApp>();

  async bus(): Promise<void> {
    this.nats = await startNatsServer();
  }

  /** An app running `roles` on the bus; its `close()` may be called any number of times. */
  async start(roles: string, env: Record<string, string> = {}, options: { keepData?: boolean } = {}): Promise<RunningApp> {
    const app = await startApp({ STREAMSTACK_TRANSPORT: 'nats', STREAMSTACK_NATS_SERVERS: this.nats.url, STREAMSTACK_ROLES: roles, ...env }, options);
    const close = app.close.bind(app);
    app.close = async () => {
      if (this.open.delete(app)) await close();
    };
    this.open.add(app);
    return app;
  }

  async stop(): Promise<void> {
    for (const app of [...this.open].reverse()) await app.close();
    await this.nats?.stop();
  }
}
