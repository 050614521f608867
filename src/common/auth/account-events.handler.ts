import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { ApiExcludeController } from '@nestjs/swagger';
import { Patterns } from '@streamstack/contracts';
import { TokenVerifier } from './token-verifier';

/** Every process hears of revoked accounts, so that no role keeps trusting their tokens. */
@ApiExcludeController()
@Controller()
export class AccountEventsHandler {
  constructor(private readonly tokens: TokenVerifier) {}

  @EventPattern(Patterns.accountRevoked)
  revoked(@Payload() event: { id?: unknown }): void {
    if (typeof event?.id === 'string') this.tokens.forgetAccount(event.id);
  }
}
