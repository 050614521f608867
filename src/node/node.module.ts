import { DynamicModule, Module } from '@nestjs/common';
import { StreamstackConfig } from '../config/config.schema';
import { NodeAgentService } from './node-agent.service';
import { nodeInstancesHandler } from './node-instances.handler';
import { NodeRuntime } from './runtime/node-runtime.service';

/** The node runtime: runs this machine's instances for AMS. */
@Module({})
export class NodeModule {
  static forRoot(config: StreamstackConfig): DynamicModule {
    return {
      module: NodeModule,
      controllers: [nodeInstancesHandler(config.nodeName)],
      providers: [
        { provide: NodeRuntime, useFactory: () => new NodeRuntime({ dataDir: config.dataDir }) },
        NodeAgentService,
      ],
    };
  }
}
