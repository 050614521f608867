import { ClientProxy, ReadPacket, WritePacket } from '@nestjs/microservices';
import { EmptyResponseException } from '@nestjs/microservices/errors/empty-response.exception';
import { jsonRoundTrip } from '../subject';
import { LocalBus } from './local-bus';

/**
 * ClientProxy over the in-process LocalBus. Payloads and replies go through a JSON round trip,
 * and "nothing handles this subject" fails with the same EmptyResponseException that ClientNats
 * raises on a NATS no-responders status, so callers cannot tell the shapes apart.
 */
export class LocalClientProxy extends ClientProxy {
  constructor(private readonly bus: LocalBus) {
    super();
  }

  async connect(): Promise<LocalBus> {
    this._status$.next('connected');
    return this.bus;
  }

  async close(): Promise<void> {
    this._status$.next('disconnected');
  }

  unwrap<T>(): T {
    return this.bus as T;
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    let active = true;
    const reply = (p: WritePacket) => {
      if (active) callback(jsonRoundTrip(p));
    };
    try {
      const subject = this.normalizePattern(packet.pattern);
      const data = jsonRoundTrip(packet.data);
      if (!this.bus.request(subject, data, reply)) {
        // Asynchronous like the NATS 503 status, so no caller relies on a synchronous failure.
        const err = new EmptyResponseException(subject);
        setImmediate(() => active && callback({ err, isDisposed: true }));
      }
    } catch (err) {
      // e.g. a payload JSON cannot carry (cycles, BigInt): the NATS serializer fails the same way.
      callback({ err, isDisposed: true });
    }
    return () => {
      active = false;
    };
  }

  protected async dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    const subject = this.normalizePattern(packet.pattern);
    this.bus.publish(subject, jsonRoundTrip(packet.data));
    return undefined as T;
  }
}
