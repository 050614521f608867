import { DynamicModule, Module } from '@nestjs/common';
import { StreamstackConfig } from '../config/config.schema';
import { agentSessionsHandler } from './agent-sessions.handler';
import { AgentService } from './agent.service';

/** The stream agent, between the gateway and AMS. */
@Module({})
export class AgentModule {
  static forRoot(config: StreamstackConfig): DynamicModule {
    return { module: AgentModule, controllers: [agentSessionsHandler(config.region)], providers: [AgentService] };
  }
}
