import { Inject, Injectable } from '@nestjs/common';
import { CustomStrategy, MicroserviceOptions } from '@nestjs/microservices';
import { LocalBus } from './local/local-bus';
import { LocalTransportServer } from './local/local-transport.server';
import { NatsTransportServer } from './nats/nats-transport.server';
import { ResolvedTransportOptions, TRANSPORT_OPTIONS } from './transport.options';

/** The one place that turns the configured transport kind into a Nest microservice server. */
@Injectable()
export class TransportService {
  private markListening!: () => void;
  /** Resolves once this app's patterns are served (connectTransport started them). */
  readonly listening = new Promise<void>((resolve) => (this.markListening = resolve));

  constructor(
    @Inject(TRANSPORT_OPTIONS) readonly options: ResolvedTransportOptions,
    private readonly bus: LocalBus,
  ) {}

  get kind(): ResolvedTransportOptions['kind'] {
    return this.options.kind;
  }

  /** Called by connectTransport once the microservice listens. */
  listeningStarted(): void {
    this.markListening();
  }

  /** For `app.connectMicroservice(...)`: serves this app's message/event patterns. */
  microserviceOptions(): MicroserviceOptions {
    const strategy =
      this.options.kind === 'local' ? new LocalTransportServer(this.bus) : new NatsTransportServer(this.options);
    return { strategy } satisfies CustomStrategy;
  }
}
