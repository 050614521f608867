import { Controller, Type } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { agentPattern, DomainError, InstanceSessionDto, Patterns, SessionLaunchDto, SessionLaunchReply } from '@streamstack/contracts';
import { RpcClient } from '@streamstack/transport';
import { IsString } from 'class-validator';
import { StreamstackConfig } from '../config/config.schema';
import type { InstanceView } from '@streamstack/contracts';

export class TerminateSessionDto {
  @IsString()
  instance_id: string;
}

/**
 * The agent between the gateway and AMS: launches and ends the instances of its region's
 * sessions, and asks the gateway for sessions for instances AMS launched with streaming on.
 * Its subjects carry its region (known only from configuration), so the class is made per region.
 */
export function agentSessionsHandler(region: string): Type<unknown> {
  // Message patterns, not HTTP routes: nothing for the API document.
  @ApiExcludeController()
  @Controller()
  class AgentSessionsHandler {
    constructor(
      private readonly rpc: RpcClient,
      private readonly config: StreamstackConfig,
    ) {}

    /**
     * A request to this region's AMS. Its "nobody answers" is this agent's `unavailable`: to the
     * gateway a `no_responder` means the region's agents are gone (and it fails over).
     */
    private async ams<T>(pattern: string, data: unknown): Promise<T> {
      try {
        return await this.rpc.request<T>(pattern, data);
      } catch (e) {
        const err = DomainError.from(e);
        throw err.code === 'no_responder' ? new DomainError('unavailable', `region ${region}: ${err.message}`) : err;
      }
    }

    @MessagePattern(agentPattern(region, 'session.launch'))
    async launch(@Payload() req: SessionLaunchDto): Promise<SessionLaunchReply> {
      const { instance } = await this.ams<{ instance: InstanceView }>(Patterns.amsInstanceLaunch, {
        app: req.app,
        ...(req.app_version !== undefined ? { app_version: req.app_version } : {}),
        screen: req.screen,
        ...(req.extra_data !== undefined ? { user_data: req.extra_data } : {}),
        session_id: req.session_id,
      });
      return { instance_id: instance.id, node: instance.node, app_version: instance.app_version, status: instance.status };
    }

    @MessagePattern(agentPattern(region, 'session.terminate'))
    async terminate(@Payload() req: TerminateSessionDto): Promise<null> {
      await this.ams(Patterns.amsInstanceDelete, { id: req.instance_id, force: true });
      return null;
    }

    @MessagePattern(Patterns.agentInstanceSession)
    createForInstance(@Payload() req: InstanceSessionDto) {
      return this.rpc.request(Patterns.gatewaySessionCreate, { ...req, region: this.config.region });
    }
  }
  return AgentSessionsHandler;
}
