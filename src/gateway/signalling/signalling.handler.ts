import { Controller, Logger } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { RelayedSignal, StreamerReady } from '@streamstack/contracts';
import { SignallingRelay } from './signalling-relay.service';

// Message patterns, not HTTP routes: nothing for the API document.

@ApiExcludeController()

@Controller()
export class SignallingHandler {
  private readonly logger = new Logger('signalling');

  constructor(private readonly relay: SignallingRelay) {}

  /**
   * Every instance's messages for its client (`signal.{session}.to-client`). Per message, so no
   * DTO: the relay uses the envelope only as lookup keys and checks the message with libs/protocol.
   */
  @EventPattern('signal.*.to-client')
  toClient(@Payload() signal: RelayedSignal) {
    this.relay.fromInstance(signal);
  }

  /** A session's media process takes its client's messages (`signal.{session}.ready`). */
  @EventPattern('signal.*.ready')
  ready(@Payload() ready: StreamerReady) {
    if (typeof ready?.session_id !== 'string') return this.logger.warn(`dropped a ready notice without a session id: ${JSON.stringify(ready)?.slice(0, 200)}`);
    this.relay.instanceReady(ready.session_id);
  }
}
