import { Controller } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { ClientStateEventDto, InstanceStatusEventDto, ONE_GATEWAY, Patterns, RegionInstanceSessionDto, SessionChangedDto } from '@streamstack/contracts';
import { SessionsService } from './sessions.service';

/** The gateway's message patterns about sessions. */
// Message patterns, not HTTP routes: nothing for the API document.
@ApiExcludeController()
@Controller()
export class SessionsHandler {
  constructor(private readonly sessions: SessionsService) {}

  @MessagePattern(Patterns.gatewaySessionCreate)
  createForInstance(@Payload() req: RegionInstanceSessionDto) {
    return this.sessions.createForInstance(req);
  }

  @EventPattern(Patterns.amsInstanceStatus, ONE_GATEWAY)
  instanceStatus(@Payload() ev: InstanceStatusEventDto) {
    return this.sessions.onInstanceStatus(ev);
  }

  @EventPattern(Patterns.gatewayClientState, ONE_GATEWAY)
  clientState(@Payload() ev: ClientStateEventDto) {
    return this.sessions.onClientState(ev);
  }

  /** Every gateway: the signalling sockets it holds follow what another one changed. */
  @EventPattern(Patterns.gatewaySessionChanged)
  sessionChanged(@Payload() ev: SessionChangedDto) {
    this.sessions.onSessionChanged(ev);
  }
}
