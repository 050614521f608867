import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { DomainError } from '@streamstack/contracts';
import { firstValueFrom, throwError, timeout } from 'rxjs';
import { describeError } from './nats/nats-errors';
import { toDomainError } from './rpc-errors';
import { RPC_CLIENT_PROXY, ResolvedTransportOptions, TRANSPORT_OPTIONS } from './transport.options';

/** The part of a ClientProxy (LocalClientProxy or NatsTransportClient) that RpcClient uses. */
export type RpcClientProxy = Pick<ClientProxy, 'send' | 'emit' | 'connect' | 'close'>;

export interface RequestOptions {
  /** Overrides the module's requestTimeoutMs for this call. */
  timeoutMs?: number;
}

/**
 * How roles call each other: request/reply and fire-and-forget events over whichever transport
 * is configured. Every failure reaches the caller as a DomainError with a stable code.
 */
@Injectable()
export class RpcClient implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('RpcClient');

  constructor(
    @Inject(RPC_CLIENT_PROXY) private readonly proxy: RpcClientProxy,
    @Inject(TRANSPORT_OPTIONS) private readonly options: ResolvedTransportOptions,
  ) {}

  /**
   * Sends a request and resolves with the handler's (first) answer. Rejects with a DomainError:
   * the handler's own `{code, message}`, `timeout`, `no_responder`, `unavailable` or `internal`.
   * Nest refuses null/undefined payloads, so those are sent as `{}`.
   */
  async request<T>(pattern: string, data: unknown, opts: RequestOptions = {}): Promise<T> {
    const ms = opts.timeoutMs ?? this.options.requestTimeoutMs;
    try {
      // The timeout covers connecting too: a request never waits longer than `ms`.
      const answer$ = this.proxy.send<T>(pattern, data ?? {}).pipe(
        timeout({
          first: ms,
          with: () => throwError(() => new DomainError('timeout', `no answer from ${pattern} within ${ms} ms`)),
        }),
      );
      // A handler that completes without a value answers `undefined`, as one returning nothing.
      return await firstValueFrom(answer$, { defaultValue: undefined as T });
    } catch (err) {
      throw toDomainError(err, pattern);
    }
  }

  /** Publishes an event to every subscriber. Never throws: failures are logged. */
  emit(pattern: string, data: unknown): void {
    try {
      this.proxy.emit(pattern, data ?? {}).subscribe({
        error: (err: unknown) => this.logger.warn(`event ${pattern} not sent: ${toDomainError(err, pattern).message}`),
      });
    } catch (err) {
      this.logger.warn(`event ${pattern} not sent: ${describeError(err)}`);
    }
  }

  /**
   * Whether the message bus carries requests now: null when it does, else why not. Over NATS, a
   * request to a subject nobody serves answers "no responders" at once when the server is there.
   */
  async probe(timeoutMs = 1000): Promise<string | null> {
    if (this.options.kind === 'local') return null;
    try {
      await this.request(`streamstack.probe.${process.pid}`, {}, { timeoutMs });
      return null;
    } catch (e) {
      const err = DomainError.from(e);
      return err.code === 'no_responder' ? null : err.message;
    }
  }

  /** Which transport is live (`local` or `nats`). */
  get kind(): ResolvedTransportOptions['kind'] {
    return this.options.kind;
  }

  async onApplicationBootstrap(): Promise<void> {
    // Connect early so that an unreachable NATS shows in the log at boot, not at first request.
    await this.proxy.connect().catch((err: unknown) => {
      this.logger.error(`message bus not reachable yet (${describeError(err)}); requests answer "unavailable" until it is`);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.proxy.close();
  }
}
