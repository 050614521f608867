import { Logger } from '@nestjs/common';
import { ServerNats } from '@nestjs/microservices';
import type { NatsConnection } from 'nats';
import { natsConnectionOptions, ResolvedTransportOptions } from '../transport.options';
import { describeError, isNatsConnectionError } from './nats-errors';

type ListenCallback = (err?: unknown, ...optionalParams: unknown[]) => void;

/**
 * Nest's ServerNats with two changes for a role process:
 * - request handlers subscribe in a queue group, so a request is handled by exactly one process
 *   even when several serve the pattern (events stay fan-out: every subscriber gets them);
 * - a NATS server that is down at boot is logged and retried instead of failing
 *   startAllMicroservices(), so roles can start in any order.
 */
export class NatsTransportServer extends ServerNats {
  private readonly log = new Logger('NatsTransportServer');
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly transport: ResolvedTransportOptions) {
    super(natsConnectionOptions(transport, 'server'));
  }

  override addHandler(
    pattern: unknown,
    callback: Parameters<ServerNats['addHandler']>[1],
    isEventHandler = false,
    extras: Record<string, unknown> = {},
  ): void {
    const queued = isEventHandler || extras.queue ? extras : { ...extras, queue: this.transport.natsRequestQueue };
    super.addHandler(pattern, callback, isEventHandler, queued);
  }

  override start(callback: ListenCallback): void {
    const connection = this.unwrap<NatsConnection>();
    this.bindEvents(connection);
    // Report "listening" only once the NATS server has registered our subscriptions, so a
    // request sent right after boot cannot miss them.
    connection.flush().then(
      () => callback(),
      (err: unknown) => {
        // Lost right after connecting: nats.js re-sends the subscriptions when it reconnects,
        // so report ready rather than open a second connection.
        this.log.warn(`NATS flush after subscribing failed (${describeError(err)}); subscriptions resume on reconnect`);
        callback();
      },
    );
  }

  override async listen(callback: ListenCallback): Promise<void> {
    let reported = false;
    let failures = 0;
    const attempt = async (): Promise<void> => {
      this.retryTimer = undefined;
      await super.listen((err?: unknown) => {
        if (!err) {
          // close() ran while connecting: drop the connection we just made.
          if (this.closed) return void super.close();
          if (failures > 0) this.log.log(`connected to NATS after ${failures} failed attempt(s); serving patterns`);
          if (!reported) {
            reported = true;
            callback();
          }
          return;
        }
        if (!isNatsConnectionError(err)) {
          // Not an outage (e.g. an invalid subject): fail boot with the real reason.
          if (!reported) {
            reported = true;
            callback(err);
          }
          return;
        }
        failures++;
        const message = `cannot reach NATS at ${this.transport.natsServers.join(', ')} (${describeError(err)}); retrying every ${this.transport.natsReconnectWaitMs} ms`;
        // Log the first failure loudly, then quietly, so an outage does not flood the log.
        if (failures === 1) this.log.error(message);
        else this.log.debug(message);
        if (!reported) {
          reported = true;
          callback();
        }
        if (!this.closed) {
          this.retryTimer = setTimeout(() => void attempt(), this.transport.natsReconnectWaitMs);
        }
      });
    };
    await attempt();
  }

  override async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await super.close();
  }
}
