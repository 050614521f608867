import { Inject, Injectable } from '@nestjs/common';
import { CustomStrategy, MicroserviceOptions } from '@nestjs/microservices';
import { LocalBus } from './local/local-bus';
import { LocalTransportServer } from './local/local-transport.server';
import { NatsTransportServer } from './nats/nats-transport.server';
import { ResolvedTransportOptions, TRANSPORT_OPTIONS } from './transport.options';

/** The one place that turns the configured transport kind into a Nest microservice server. */
@Injectable()
export class TransportService {
  constructor(
    @Inject(TRANSPORT_OPTIONS) readonly options: ResolvedTransportOptions,
    private readonly bus: LocalBus,
  ) {}

  get kind(): ResolvedTransportOptions['kind'] {
    return this.options.kind;
  }

  /** For `app.connectMicroservice(...)`: serves this app's message/event patterns. */
  microserviceOptions(): MicroserviceOptions {
    const strategy =
      this.options.kind === 'local' ? new LocalTransportServer(this.bus) : new NatsTransportServer(this.options);
    return { strategy } satisfies CustomStrategy;
  }
}
