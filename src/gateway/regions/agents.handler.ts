import { Controller } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { Patterns } from '@streamstack/contracts';
import { AgentRegistrationDto } from './agent-registration.dto';
import { AgentsService } from './agents.service';

// Message patterns, not HTTP routes: nothing for the API document.

@ApiExcludeController()

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
