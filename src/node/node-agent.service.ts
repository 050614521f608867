import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DomainError, Limits, NodeInstanceStatusEvent, NodeRegistration, Patterns } from '@streamstack/contracts';
import { RpcClient, TransportService } from '@streamstack/transport';
import { cpus, totalmem } from 'node:os';
import { StreamstackConfig } from '../config/config.schema';
import { NodeRuntime } from './runtime/node-runtime.service';

/** How long to wait between attempts to reach AMS at start-up. */
const REGISTER_RETRY_MS = 1000;

/**
 * This machine as an AMS node: registers its real CPU count and memory, sends heartbeats, and
 * reports what its runtime sees happen to instances.
 */
@Injectable()
export class NodeAgentService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('node');
  private heartbeat?: NodeJS.Timeout;
  private retry?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly config: StreamstackConfig,
    private readonly runtime: NodeRuntime,
    private readonly rpc: RpcClient,
    private readonly transport: TransportService,
  ) {}

  get registration(): NodeRegistration {
    return { name: this.config.nodeName, address: this.config.host, cpus: cpus().length, memory: totalmem() };
  }

  onApplicationBootstrap(): void {
    this.runtime.onStatus((ev) => {
      const report: NodeInstanceStatusEvent = { node: this.config.nodeName, ...ev };
      this.rpc.emit(Patterns.amsNodeInstanceStatus, report);
    });
    // Register once the patterns are served, so that AMS's first requests find this node.
    void this.transport.listening.then(() => this.register());
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.retry);
  }

  /** The registration with the instances the runtime runs now. */
  private withInstances(): NodeRegistration & { instances: string[] } {
    return { ...this.registration, instances: this.runtime.list().map((i) => i.instance_id) };
  }

  /** Registers (retrying until AMS answers), then keeps the registration fresh. */
  async register(): Promise<void> {
    try {
      await this.rpc.request(Patterns.amsNodeRegister, this.withInstances());
      this.logger.log(`registered as node ${this.config.nodeName}`);
      clearInterval(this.heartbeat);
      // Each heartbeat lists what runs here: AMS corrects what it missed (InstancesService.reconcileHeartbeat).
      this.heartbeat = setInterval(() => this.rpc.emit(Patterns.amsNodeHeartbeat, this.withInstances()), Limits.nodeHeartbeatMs);
      this.heartbeat.unref();
    } catch (e) {
      if (this.stopped) return;
      this.logger.warn(`could not register with AMS (${DomainError.from(e).message}); retrying`);
      this.retry = setTimeout(() => void this.register(), REGISTER_RETRY_MS);
      this.retry.unref();
    }
  }
}
