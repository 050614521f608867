import { ClientNats } from '@nestjs/microservices';
import { natsConnectionOptions, ResolvedTransportOptions } from '../transport.options';

/**
 * Nest's ClientNats with a shutdown that waits for a connection attempt in flight, so that
 * app.close() never leaves a NATS socket behind (an open handle in Jest, a leak in a process).
 */
export class NatsTransportClient extends ClientNats {
  constructor(transport: ResolvedTransportOptions) {
    super(natsConnectionOptions(transport, 'client'));
  }

  override async close(): Promise<void> {
    const pending = this.connectionPromise;
    if (pending && !this.natsClient) {
      const client = await pending.catch(() => null);
      if (client && !this.natsClient) this.natsClient = client;
    }
    await super.close();
  }
}
