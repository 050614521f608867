import { Controller } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { Patterns } from '@streamstack/contracts';
import { InstancesService } from './instances/instances.service';
import { InstanceRefDto, SessionInstanceLaunchDto } from './instances/launch-instance.dto';
import { ApplicationsService } from './applications/applications.service';
import { NodeRegistrationDto, NodeReportDto } from './nodes/node-registration.dto';
import { NodesService } from './nodes/nodes.service';

/** AMS's message patterns: the same services the HTTP controllers call. */
// Message patterns, not HTTP routes: nothing for the API document.
@ApiExcludeController()
@Controller()
export class AmsHandler {
  constructor(
    private readonly instances: InstancesService,
    private readonly nodes: NodesService,
    private readonly apps: ApplicationsService,
  ) {}

  @MessagePattern(Patterns.amsInstanceLaunch)
  launch(@Payload() body: SessionInstanceLaunchDto) {
    return this.instances.launch(body);
  }

  /** The applications with a published version: what the gateway offers for streaming. */
  @MessagePattern(Patterns.amsApplicationList)
  async applications() {
    return (await this.apps.list()).filter((a) => a.published_version !== null).map((a) => ({ name: a.name }));
  }

  @MessagePattern(Patterns.amsInstanceStop)
  stop(@Payload() body: InstanceRefDto) {
    return this.instances.stop(body.id);
  }

  @MessagePattern(Patterns.amsInstanceDelete)
  delete(@Payload() body: InstanceRefDto) {
    return this.instances.delete(body.id, body.force ?? false);
  }

  @MessagePattern(Patterns.amsCapacity)
  capacity() {
    return this.nodes.capacity();
  }

  @MessagePattern(Patterns.amsNodeRegister)
  async register(@Payload() body: NodeRegistrationDto) {
    const { instances, ...registration } = body;
    const node = await this.nodes.register(registration);
    await this.instances.reconcileNode(body.name, instances ?? []);
    return node;
  }

  @EventPattern(Patterns.amsNodeHeartbeat)
  async heartbeat(@Payload() body: NodeRegistrationDto) {
    const { instances, ...registration } = body;
    await this.nodes.heartbeat(registration);
    if (instances) await this.instances.reconcileHeartbeat(body.name, instances);
  }

  @EventPattern(Patterns.amsNodeInstanceStatus)
  report(@Payload() body: NodeReportDto) {
    return this.instances.onNodeReport(body);
  }
}
