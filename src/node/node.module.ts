import { DynamicModule, Module } from '@nestjs/common';
import { StreamstackConfig } from '../config/config.schema';
import { MediaMetrics } from './media-metrics';
import { NodeAgentService } from './node-agent.service';
import { nodeInstancesHandler } from './node-instances.handler';
import { NodeSignallingBridge } from './node-signalling.bridge';
import { NodeRuntime } from './runtime/node-runtime.service';
import type { IceSettings } from './runtime/runtime.types';

/** The streamers' ICE settings from the configuration contract. */
function iceSettings(config: StreamstackConfig): IceSettings {
  const range = config.icePortRange ? (config.icePortRange.split('-').map(Number) as [number, number]) : undefined;
  return {
    servers: config.stunUrls,
    ...(config.iceBindAddress ? { bindAddress: config.iceBindAddress } : {}),
    ...(range ? { portRange: range } : {}),
  };
}

/** The node runtime: runs this machine's instances for AMS. */
@Module({})
export class NodeModule {
  static forRoot(config: StreamstackConfig): DynamicModule {
    return {
      module: NodeModule,
      controllers: [nodeInstancesHandler(config.nodeName), NodeSignallingBridge],
      providers: [
        { provide: NodeRuntime, useFactory: () => new NodeRuntime({ dataDir: config.dataDir, ice: iceSettings(config), warmSpares: config.warmSpares, videoEncoder: config.videoEncoder, sandbox: config.instanceSandbox }) },
        NodeAgentService,
        MediaMetrics,
      ],
    };
  }
}
