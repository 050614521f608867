import { Module } from '@nestjs/common';
import { AgentService } from './agent.service';

/** The stream agent, between the gateway and AMS. */
@Module({ providers: [AgentService] })
export class AgentModule {}
