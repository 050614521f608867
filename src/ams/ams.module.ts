import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApplicationVersion } from './applications/application-version.entity';
import { Application } from './applications/application.entity';
import { Instance } from './instances/instance.entity';
import { NodeRecord } from './nodes/node.entity';
import { Operation } from './operations/operation.entity';
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
  imports: [TypeOrmModule.forFeature([Application, ApplicationVersion, NodeRecord, Instance, Operation])],
  controllers: [ApplicationsController, InstancesController, NodesController, OperationsController, AmsHandler],
  providers: [ApplicationsService, InstancesService, NodesService, OperationsService, AmsEventsService, AmsEventsSocket],
})
export class AmsModule {}
