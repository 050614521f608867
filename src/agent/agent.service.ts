import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DomainError, Limits, Patterns } from '@streamstack/contracts';
import { newId } from '@streamstack/persistence';
import { RpcClient, TransportService } from '@streamstack/transport';
import { StreamstackConfig } from '../config/config.schema';

const REGISTER_RETRY_MS = 1000;

/**
 * The stream agent: registers its region and the capacity of the AMS behind it with the
 * gateway, and keeps that registration fresh.
 */
@Injectable()
export class AgentService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('agent');
  readonly agentId: string;
  private timer?: NodeJS.Timeout;
  private registered = false;

  constructor(
    private readonly config: StreamstackConfig,
    private readonly rpc: RpcClient,
    private readonly transport: TransportService,
  ) {
    this.agentId = `${config.region}-${newId().slice(0, 8)}`;
  }

  private stopped = false;

  onApplicationBootstrap(): void {
    void this.transport.listening.then(() => this.beat());
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Registers on the first beat that reaches the gateway, then sends heartbeats. */
  async beat(): Promise<void> {
    let amsDown = false;
    try {
      // An AMS that does not answer is reported, not hidden: the gateway then knows this region is
      // up but cannot launch (and says so in its status), instead of "no agent has registered".
      const load = await this.rpc.request<{ capacity: object; load: object }>(Patterns.amsCapacity, {}).catch((e: unknown) => {
        const zero = { cpus: 0, memory: 0, instances: 0 };
        amsDown = true;
        return { capacity: zero, load: zero, ams_error: DomainError.from(e).message.slice(0, 500) };
      });
      const registration = { agent_id: this.agentId, region: this.config.region, ...load };
      if (this.registered) {
        this.rpc.emit(Patterns.agentHeartbeat, registration);
      } else {
        await this.rpc.request(Patterns.agentRegister, registration);
        this.registered = true;
        this.logger.log(`agent ${this.agentId} registered with the gateway for region ${this.config.region}`);
      }
    } catch (e) {
      this.logger.warn(`agent ${this.agentId} could not report to the gateway: ${DomainError.from(e).message}`);
    }
    if (this.stopped) return;
    // Until registered, and while AMS does not answer, again soon: either may still be starting.
    this.timer = setTimeout(() => void this.beat(), this.registered && !amsDown ? Limits.agentHeartbeatMs : REGISTER_RETRY_MS);
    this.timer.unref();
  }
}
