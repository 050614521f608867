import { Logger } from '@nestjs/common';
import {
  CustomTransportStrategy,
  NatsContext,
  Server,
  TransportId,
  WritePacket,
} from '@nestjs/microservices';
import { DomainError } from '@streamstack/contracts';
import { LocalBus, LocalEndpoint, LocalRoute } from './local-bus';

/** Transport id of the in-process transport (`@MessagePattern(p, LOCAL_TRANSPORT)` would pin a handler to it). */
export const LOCAL_TRANSPORT = Symbol('LOCAL_TRANSPORT');

/**
 * Serves the application's @MessagePattern/@EventPattern handlers on the in-process LocalBus.
 * Mirrors ServerNats.handleMessage so that handlers see the same thing in both shapes: the
 * payload, and a NatsContext whose getSubject() is the concrete subject.
 */
export class LocalTransportServer extends Server implements CustomTransportStrategy, LocalEndpoint {
  override transportId: TransportId = LOCAL_TRANSPORT;
  protected override readonly logger = new Logger('LocalTransportServer');

  constructor(private readonly bus: LocalBus) {
    super();
  }

  listen(callback: (err?: unknown, ...optionalParams: unknown[]) => void): void {
    this.bus.attach(this);
    this._status$.next('connected');
    callback();
  }

  close(): void {
    this.bus.detach(this);
    this._status$.next('disconnected');
  }

  on(): void {
    // The in-process bus has no connection events to subscribe to.
  }

  unwrap<T>(): T {
    return this.bus as T;
  }

  routes(): LocalRoute[] {
    const routes: LocalRoute[] = [];
    for (const [pattern, handler] of this.messageHandlers) {
      routes.push({ pattern, isEvent: handler.isEventHandler === true });
    }
    return routes;
  }

  deliverRequest(pattern: string, subject: string, data: unknown, respond: (packet: WritePacket) => void): void {
    const ctx = new NatsContext([subject, undefined]);
    const handler = this.getHandlerByPattern(pattern);
    const fail = (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      respond({ err: new DomainError('internal', message).toPayload(), isDisposed: true });
    };
    if (!handler) return fail(`no handler for ${pattern}`);
    // Nest's handler proxy turns handler exceptions into an error observable (through the
    // exception filters); the catch only covers failures outside it.
    Promise.resolve(
      this.onProcessingStartHook(this.transportId, ctx, async () => {
        const response$ = this.transformToObservable(await handler(data, ctx));
        this.send(response$, respond);
      }),
    ).catch(fail);
  }

  deliverEvent(pattern: string, subject: string, data: unknown): Promise<void> {
    const ctx = new NatsContext([subject, undefined]);
    return this.handleEvent(pattern, { pattern: subject, data }, ctx);
  }
}
