import { Controller } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { EventPattern, Payload } from '@nestjs/microservices';
import { RelayedSignalDto } from '@streamstack/contracts';
import { SignallingRelay } from './signalling-relay.service';

// Message patterns, not HTTP routes: nothing for the API document.

@ApiExcludeController()

@Controller()
export class SignallingHandler {
  constructor(private readonly relay: SignallingRelay) {}

  /** Every instance's messages for its client (`signal.{session}.to-client`). */
  @EventPattern('signal.*.to-client')
  toClient(@Payload() signal: RelayedSignalDto) {
    this.relay.fromInstance(signal);
  }
}
