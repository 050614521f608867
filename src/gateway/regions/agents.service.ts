import { Injectable, Logger } from '@nestjs/common';
import { DomainError, Limits } from '@streamstack/contracts';
import { Clock } from '../../common/clock';
import { StatusRegistry } from '../../common/status/status-registry';

/** An agent misses this many heartbeats and its region stops being offered. */
export const AGENT_EXPIRY_MS = 3 * Limits.agentHeartbeatMs;

export interface AgentCapacity {
  cpus: number;
  memory: number;
  instances: number;
}

export interface AgentInfo {
  agent_id: string;
  region: string;
  capacity: AgentCapacity;
  load: AgentCapacity;
  /** Its AMS does not answer (what the agent saw): it cannot launch anything. */
  ams_error?: string;
  last_seen: number;
}

/**
 * The agents that registered with this gateway. Agents are live processes that re-register
 * after a gateway restart, so their registry is memory, not a table.
 */
@Injectable()
export class AgentsService {
  private readonly logger = new Logger('agents');
  private readonly agents = new Map<string, AgentInfo>();
  private turn = 0;

  constructor(
    private readonly clock: Clock,
    status: StatusRegistry,
  ) {
    status.provideAgents(() => this.live());
  }

  register(agent: Omit<AgentInfo, 'last_seen'>): AgentInfo {
    const fresh = !this.agents.has(agent.agent_id);
    const info = { ...agent, last_seen: this.clock.now() };
    this.agents.set(agent.agent_id, info);
    if (fresh) this.logger.log(`agent ${agent.agent_id} registered for region ${agent.region}`);
    return info;
  }

  /** A heartbeat from an agent the gateway does not know (it restarted) registers it. */
  heartbeat(agent: Omit<AgentInfo, 'last_seen'>): void {
    this.register(agent);
  }

  live(): AgentInfo[] {
    const now = this.clock.now();
    for (const [id, a] of this.agents) {
      if (now - a.last_seen > AGENT_EXPIRY_MS) {
        this.agents.delete(id);
        this.logger.warn(`agent ${id} (${a.region}) expired: no heartbeat for ${AGENT_EXPIRY_MS / 1000} s`);
      }
    }
    return [...this.agents.values()];
  }

  /**
   * The agent to host a new session: in `region` when one is asked for, else the live agent
   * with the most free CPU.
   */
  pick(region: string): AgentInfo {
    const live = this.live();
    const inRegion = region ? live.filter((a) => a.region === region) : live;
    const candidates = inRegion.filter((a) => !a.ams_error);
    if (candidates.length === 0 && inRegion.length > 0) {
      const reasons = [...new Set(inRegion.map((a) => `${a.region}: ${a.ams_error}`))];
      throw new DomainError('unavailable', `no region can launch now: their AMS does not answer (${reasons.join('; ')})`);
    }
    if (candidates.length === 0) {
      const known = this.regions();
      throw new DomainError(
        'unavailable',
        region
          ? `no live agent in region "${region}"${known.length ? `; regions now: ${known.join(', ')}` : ''}`
          : 'no agent has registered with the gateway yet',
      );
    }
    // The most free CPU; ties (two agents in front of one AMS report the same) in turn, not always the first.
    const free = (a: AgentInfo) => a.capacity.cpus - a.load.cpus;
    const most = Math.max(...candidates.map(free));
    const tied = candidates.filter((a) => free(a) === most);
    return tied[this.turn++ % tied.length];
  }

  /** Nothing answers for `region` any more (its agents are gone): drop them now, not 30 s later. */
  forgetRegion(region: string): void {
    for (const [id, a] of this.agents) {
      if (a.region !== region) continue;
      this.agents.delete(id);
      this.logger.warn(`agent ${id} (${region}) forgotten: nothing answers for its region`);
    }
  }

  regions(): string[] {
    return [...new Set(this.live().map((a) => a.region))].sort();
  }
}
