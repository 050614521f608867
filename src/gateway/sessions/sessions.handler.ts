import { Controller } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { ClientStateEvent, InstanceSessionRequest, InstanceStatusEvent, Patterns } from '@streamstack/contracts';
import { SessionsService } from './sessions.service';

/** The gateway's message patterns about sessions. */
@Controller()
export class SessionsHandler {
  constructor(private readonly sessions: SessionsService) {}

  @MessagePattern(Patterns.gatewaySessionCreate)
  createForInstance(@Payload() req: InstanceSessionRequest) {
    return this.sessions.createForInstance(req);
  }

  @EventPattern(Patterns.amsInstanceStatus)
  instanceStatus(@Payload() ev: InstanceStatusEvent) {
    return this.sessions.onInstanceStatus(ev);
  }

  @EventPattern(Patterns.gatewayClientState)
  clientState(@Payload() ev: ClientStateEvent) {
    return this.sessions.onClientState(ev);
  }
}
