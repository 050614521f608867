import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { RelayedSignal } from '@streamstack/contracts';
import { SignallingRelay } from './signalling-relay.service';

@Controller()
export class SignallingHandler {
  constructor(private readonly relay: SignallingRelay) {}

  /** Every instance's messages for its client (`signal.{session}.to-client`). */
  @EventPattern('signal.*.to-client')
  toClient(@Payload() signal: RelayedSignal) {
    this.relay.fromInstance(signal);
  }
}
