import { Module } from '@nestjs/common';
import { AmsHandler } from './ams.handler';
import { ApplicationsController } from './applications/applications.controller';
import { ApplicationsService } from './applications/applications.service';
import { AmsEventsService } from './events/ams-events.service';
import { AmsEventsSocket } from './events/ams-events.socket';
import { InstancesController } from './instances/instances.controller';
import { InstancesService } from './instances/instances.service';
import { NodesController } from './nodes/nodes.controller';
import { NodesService } from './nodes/nodes.service';
import { OperationsController } from './operations/operations.controller';
import { OperationsService } from './operations/operations.service';

/** AMS: applications, nodes, instances and their lifecycle, operations, events. */
@Module({
  controllers: [ApplicationsController, InstancesController, NodesController, OperationsController, AmsHandler],
  providers: [ApplicationsService, InstancesService, NodesService, OperationsService, AmsEventsService, AmsEventsSocket],
})
export class AmsModule {}
