import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DomainError, NodeRegistration, type NodeView, notFound } from '@streamstack/contracts';
import { forUpdate, nowIso } from '@streamstack/persistence';
import { EntityManager, In, Repository } from 'typeorm';
import { StreamstackConfig } from '../../config/config.schema';
import { Instance } from '../instances/instance.entity';
import { NodeRecord } from './node.entity';

/** Statuses in which an instance holds its node's resources. */
export const RESERVING_STATUSES = ['created', 'prepared', 'started', 'running'] as const;
/** A node that has not sent a heartbeat for this long is offline. */
export const NODE_OFFLINE_AFTER_MS = 30_000;

export interface AgentLoad {
  cpus: number;
  memory: number;
  instances: number;
}

interface Usage {
  cpus: number;
  memory: number;
  instances: number;
}

@Injectable()
export class NodesService {
  private readonly logger = new Logger('nodes');

  constructor(
    @InjectRepository(NodeRecord) private readonly nodes: Repository<NodeRecord>,
    private readonly config: StreamstackConfig,
  ) {}

  async register(reg: NodeRegistration): Promise<NodeView> {
    const known = await this.nodes.existsBy({ name: reg.name });
    // One statement (INSERT ... ON CONFLICT DO UPDATE), `unschedulable` left as it is: save()'s
    // select-then-insert let two registrations of one name race into a duplicate key.
    await this.nodes.upsert({ name: reg.name, address: reg.address, cpus: reg.cpus, memory: reg.memory, status: 'online', lastSeen: nowIso() }, ['name']);
    if (!known) this.logger.log(`node ${reg.name} registered: ${reg.cpus} CPUs, ${Math.round(reg.memory / 2 ** 20)} MiB`);
    return this.get(reg.name);
  }

  async heartbeat(reg: NodeRegistration): Promise<void> {
    const updated = await this.nodes.update({ name: reg.name }, { lastSeen: nowIso(), status: 'online' });
    if (!updated.affected) await this.register(reg);
  }

  async list(): Promise<NodeView[]> {
    const nodes = await this.nodes.find({ order: { name: 'ASC' } });
    const usage = await this.usage(this.nodes.manager);
    return nodes.map((n) => this.toView(n, usage.get(n.name)));
  }

  async get(name: string): Promise<NodeView> {
    const node = await this.nodes.findOneBy({ name });
    if (!node) throw notFound('node', name);
    return this.toView(node, (await this.usage(this.nodes.manager, name)).get(name));
  }

  /** Totals over the online, schedulable nodes: what an agent reports to the gateway. */
  async capacity(): Promise<{ capacity: AgentLoad; load: AgentLoad }> {
    const usable = (await this.list()).filter((n) => n.status === 'online');
    const sum = (f: (n: NodeView) => number) => usable.reduce((t, n) => t + f(n), 0);
    return {
      capacity: {
        cpus: sum((n) => Math.floor(n.cpus * n.cpu_allocation_rate)),
        memory: sum((n) => Math.floor(n.memory * n.memory_allocation_rate)),
        instances: usable.length,
      },
      load: { cpus: sum((n) => n.allocated_cpus), memory: sum((n) => n.allocated_memory), instances: sum((n) => n.instances) },
    };
  }

  async setUnschedulable(name: string, unschedulable: boolean): Promise<NodeView> {
    const updated = await this.nodes.update({ name }, { unschedulable });
    if (!updated.affected) throw notFound('node', name);
    return this.get(name);
  }

  /**
   * Picks the node for an instance needing `cpus`/`memory`, inside the caller's transaction so
   * that the reservation and the instance row are written together. `wanted` pins a node.
   */
  async pickNode(manager: EntityManager, cpus: number, memory: number, wanted?: string): Promise<string> {
    // Locking every node row serialises placements: two launches cannot both take the last CPUs.
    const all = await manager.getRepository(NodeRecord).find({ order: { name: 'ASC' }, ...forUpdate(manager) });
    const candidates = wanted ? all.filter((n) => n.name === wanted) : all;
    if (wanted && candidates.length === 0) throw notFound('node', wanted);
    const usage = await this.usage(manager);
    const reasons: string[] = [];
    let best: { name: string; free: number } | undefined;
    for (const node of candidates) {
      const view = this.toView(node, usage.get(node.name));
      const cpuCapacity = Math.floor(node.cpus * this.config.cpuAllocationRate);
      const memoryCapacity = Math.floor(node.memory * this.config.memoryAllocationRate);
      if (view.status !== 'online') {
        reasons.push(`${node.name} is ${view.status}`);
      } else if (view.allocated_cpus + cpus > cpuCapacity) {
        reasons.push(`${node.name} has ${cpuCapacity - view.allocated_cpus} of ${cpuCapacity} CPUs free, ${cpus} needed`);
      } else if (view.allocated_memory + memory > memoryCapacity) {
        const mib = (b: number) => `${Math.floor(b / 2 ** 20)} MiB`;
        reasons.push(`${node.name} has ${mib(memoryCapacity - view.allocated_memory)} of memory free, ${mib(memory)} needed`);
      } else {
        const free = cpuCapacity - view.allocated_cpus;
        if (!best || free > best.free) best = { name: node.name, free };
      }
    }
    if (best) return best.name;
    if (candidates.length === 0) throw new DomainError('insufficient_capacity', 'no node is registered to run instances');
    throw new DomainError('insufficient_capacity', `no node can take this instance: ${reasons.join('; ')}`);
  }

  /** A node that did not answer a request is offline until its next heartbeat. */
  async markUnreachable(name: string, why: string): Promise<void> {
    const updated = await this.nodes.update({ name, status: 'online' }, { status: 'offline' });
    if (updated.affected) this.logger.warn(`node ${name} is offline: it did not answer (${why})`);
  }

  /** Marks nodes that stopped sending heartbeats as offline; returns those that just went. */
  async markStale(now = Date.now()): Promise<{ name: string; lastSeen: string }[]> {
    const gone: { name: string; lastSeen: string }[] = [];
    for (const node of await this.nodes.findBy({ status: 'online' })) {
      if (now - Date.parse(node.lastSeen) > NODE_OFFLINE_AFTER_MS) {
        // Only if no heartbeat came in meanwhile (lastSeen unchanged).
        const updated = await this.nodes.update({ name: node.name, lastSeen: node.lastSeen }, { status: 'offline' });
        if (!updated.affected) continue;
        this.logger.warn(`node ${node.name} is offline: no heartbeat since ${node.lastSeen}`);
        gone.push({ name: node.name, lastSeen: node.lastSeen });
      }
    }
    return gone;
  }

  private async usage(manager: EntityManager, node?: string): Promise<Map<string, Usage>> {
    const instances = await manager.getRepository(Instance).find({
      select: { node: true, cpus: true, memory: true },
      where: { status: In([...RESERVING_STATUSES]), ...(node ? { node } : {}) },
    });
    const usage = new Map<string, Usage>();
    for (const i of instances) {
      if (!i.node) continue;
      const u = usage.get(i.node) ?? { cpus: 0, memory: 0, instances: 0 };
      u.cpus += i.cpus;
      u.memory += i.memory;
      u.instances += 1;
      usage.set(i.node, u);
    }
    return usage;
  }

  private toView(n: NodeRecord, u: Usage = { cpus: 0, memory: 0, instances: 0 }): NodeView {
    const stale = Date.now() - Date.parse(n.lastSeen) > NODE_OFFLINE_AFTER_MS;
    const status = n.status === 'offline' || stale ? 'offline' : n.unschedulable ? 'draining' : 'online';
    return {
      name: n.name,
      address: n.address,
      cpus: n.cpus,
      memory: n.memory,
      cpu_allocation_rate: this.config.cpuAllocationRate,
      memory_allocation_rate: this.config.memoryAllocationRate,
      allocated_cpus: u.cpus,
      allocated_memory: u.memory,
      instances: u.instances,
      status,
      unschedulable: n.unschedulable,
      last_seen: n.lastSeen,
    };
  }
}
