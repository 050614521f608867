import { Injectable } from '@nestjs/common';

/** A stream agent as /1.0/status reports it. */
export interface AgentHealth {
  agent_id: string;
  region: string;
  /** Its AMS does not answer: it cannot launch. */
  ams_error?: string;
}

/**
 * What the roles of this process add to `/1.0/status`: a gateway registers how to list its
 * live agents. The status route lives with every role; this keeps it from importing any.
 */
@Injectable()
export class StatusRegistry {
  private agentSource: (() => AgentHealth[]) | null = null;

  provideAgents(source: () => AgentHealth[]): void {
    this.agentSource = source;
  }

  /** The live agents, or undefined where no gateway runs. */
  agents(): AgentHealth[] | undefined {
    return this.agentSource?.();
  }
}
