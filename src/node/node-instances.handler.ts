import { Controller, Type } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { nodePattern, NodeInstanceStarted } from '@streamstack/contracts';
import { IsString } from 'class-validator';
import { NodeInstanceStartDto } from './node-instance-start.dto';
import { NodeRuntime } from './runtime/node-runtime.service';

export class NodeInstanceRefDto {
  @IsString()
  instance_id: string;
}

/**
 * The requests AMS sends to this node. Their subjects carry the node's name
 * (`node.{name}.instance.*`), known only from configuration, so the class is made per name.
 */
export function nodeInstancesHandler(nodeName: string): Type<unknown> {
  // Message patterns, not HTTP routes: nothing for the API document.
  @ApiExcludeController()
  @Controller()
  class NodeInstancesHandler {
    constructor(private readonly runtime: NodeRuntime) {}

    @MessagePattern(nodePattern(nodeName, 'start'))
    async start(@Payload() req: NodeInstanceStartDto): Promise<NodeInstanceStarted> {
      const info = await this.runtime.start(req);
      return { instance_id: info.instance_id, pids: info.pids };
    }

    @MessagePattern(nodePattern(nodeName, 'stop'))
    async stop(@Payload() req: NodeInstanceRefDto): Promise<null> {
      await this.runtime.stop(req.instance_id);
      return null;
    }

    @MessagePattern(nodePattern(nodeName, 'delete'))
    async delete(@Payload() req: NodeInstanceRefDto): Promise<null> {
      await this.runtime.stop(req.instance_id);
      await this.runtime.purge(req.instance_id);
      return null;
    }

    @MessagePattern(nodePattern(nodeName, 'logs'))
    logs(@Payload() req: NodeInstanceRefDto): Promise<string> {
      return this.runtime.logs(req.instance_id);
    }
  }
  return NodeInstancesHandler;
}
