import { Controller } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Patterns } from '@streamstack/contracts';
import { AccountsService } from './accounts.service';
import { VerifyTokenDto } from './create-account.dto';

/** Lets every role authenticate callers against the gateway's accounts. */
// Message patterns, not HTTP routes: nothing for the API document.
@ApiExcludeController()
@Controller()
export class AccountsHandler {
  constructor(private readonly accounts: AccountsService) {}

  @MessagePattern(Patterns.accountVerify)
  verify(@Payload() body: VerifyTokenDto) {
    return this.accounts.verify(body.token_hash);
  }
}
