import { Controller } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { Patterns } from '@streamstack/contracts';
import { AgentRegistrationDto } from './agent-registration.dto';
import { AgentsService } from './agents.service';

@Controller()
export class AgentsHandler {
  constructor(private readonly agents: AgentsService) {}

  @MessagePattern(Patterns.agentRegister)
  register(@Payload() body: AgentRegistrationDto) {
    return this.agents.register(body);
  }

  @EventPattern(Patterns.agentHeartbeat)
  heartbeat(@Payload() body: AgentRegistrationDto) {
    this.agents.heartbeat(body);
  }
}
