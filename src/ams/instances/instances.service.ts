import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import {
  conflict,
  DomainError,
  InstanceSessionRequest,
  InstanceStatus,
  InstanceStatusEvent,
  type InstanceView,
  invalid,
  Limits,
  NodeInstanceStartRequest,
  NodeInstanceStatusEvent,
  nodePattern,
  notFound,
  Patterns,
} from '@streamstack/contracts';
import { forUpdate, newId, nowIso, TransactionRunner } from '@streamstack/persistence';
import { RpcClient, TransportService, unanswered } from '@streamstack/transport';
import { EventEmitter } from 'node:events';
import { In, Repository } from 'typeorm';
import { ApplicationsService, type LaunchableVersion } from '../applications/applications.service';
import { TEST_PATTERN_MIN_HEIGHT, TEST_PATTERN_MIN_WIDTH } from '../applications/manifest.dto';
import { AmsEventsService } from '../events/ams-events.service';
import { NodesService } from '../nodes/nodes.service';
import { OperationsService, OperationView } from '../operations/operations.service';
import { Instance } from './instance.entity';
import { SessionInstanceLaunchDto } from './launch-instance.dto';

/** How long a node may take to bring an instance up (spawn, first encoded packet). */
export const INSTANCE_START_TIMEOUT_MS = 30_000;
const ACTIVE: InstanceStatus[] = ['prepared', 'started', 'running'];
const LIFECYCLE_ACTION: Record<InstanceStatus, string> = {
  created: 'instance-created',
  prepared: 'instance-prepared',
  started: 'instance-started',
  running: 'instance-running',
  stopped: 'instance-stopped',
  deleted: 'instance-deleted',
  error: 'instance-failed',
};

export const toView = (i: Instance): InstanceView => ({
  id: i.id,
  app: i.app,
  app_version: i.appVersion,
  node: i.node,
  status: i.status,
  status_message: i.statusMessage,
  screen: i.screen,
  resources: { cpus: i.cpus, memory: i.memory },
  enable_streaming: i.enableStreaming,
  session_id: i.sessionId,
  user_data: i.userData ?? null,
  created_at: i.createdAt,
  updated_at: i.updatedAt,
});

/** An instance its launch has just written, and the application version it resolved. */
type Launched = { instance: Instance; target: LaunchableVersion };

export interface InstanceOperation {
  instance: InstanceView;
  operation: OperationView;
}

/**
 * Instances and their lifecycle (PROTOCOL.md §6): created → prepared → started → running →
 * stopped → deleted, or error. Every change is persisted, then published as
 * `ams.instance.status` and on the events socket.
 */
@Injectable()
export class InstancesService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('instances');
  /** Emits `<id>` after every status change, for work waiting on one. */
  private readonly changes = new EventEmitter().setMaxListeners(0);
  /**
   * Instances this process is bringing up or down now: what a node's registration or heartbeat
   * says about them may be a moment old, so reconciling leaves them to that work.
   */
  private readonly busy = new Map<string, number>();
  private sweeper?: NodeJS.Timeout;

  constructor(
    @InjectRepository(Instance) private readonly instances: Repository<Instance>,
    private readonly tx: TransactionRunner,
    private readonly apps: ApplicationsService,
    private readonly nodes: NodesService,
    private readonly operations: OperationsService,
    private readonly events: AmsEventsService,
    private readonly rpc: RpcClient,
    private readonly transport: TransportService,
  ) {}

  /**
   * Finishes the instance work a previous AMS process left half done (it stopped between a launch
   * and the instance running, say): each unfinished operation runs again from where its instance
   * is (bringing up is idempotent: a node that already runs it says so, and a started one is
   * confirmed by the node's heartbeat). Without this an instance stayed `prepared` and its
   * operation `running` forever. The instances are claimed before any node can register, so that
   * a registration's reconciling leaves them to the resumed work.
   */
  async onApplicationBootstrap(): Promise<void> {
    const resumable = (await this.operations.unfinished()).map((op) => ({ op, id: op.resources.instances?.[0]?.split('/').pop() }));
    const release = new Map(resumable.filter((r) => r.id !== undefined).map(({ id }) => [id!, this.claim(id!)]));
    this.sweeper = setInterval(() => {
      this.sweepOfflineNodes().catch((e: unknown) => this.logger.error(`checking for offline nodes failed: ${DomainError.from(e).message}`));
    }, Limits.nodeHeartbeatMs);
    this.sweeper.unref();
    // The work runs once the patterns are served, so that the nodes' answers reach this process.
    void this.transport.listening.then(() => {
      for (const { op, id } of resumable) {
        const verb = op.description.split(' ')[0];
        const work =
          id === undefined ? null
          : verb === 'launch' || verb === 'start' || verb === 'restart' ? () => this.bringUp(id)
          : verb === 'stop' ? () => this.bringDown(id)
          : verb === 'delete' ? () => this.remove(id, true)
          : null;
        this.logger.warn(`operation ${op.id} (${op.description}) was interrupted by a restart: ${work ? 'resuming it' : 'failing it'}`);
        this.operations.run(op.id, async () => {
          try {
            if (!work) throw new DomainError('internal', 'interrupted by an AMS restart');
            await work();
          } finally {
            if (id !== undefined) release.get(id)?.();
          }
        });
      }
    });
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }

  /**
   * A node without heartbeats for NODE_OFFLINE_AFTER_MS is offline, and what AMS had running
   * there has failed: its sessions must not stay `active` on a dead node (the gateway ends them on
   * the `error`). If the node comes back still running one, its heartbeat has it stopped there.
   */
  async sweepOfflineNodes(now = Date.now()): Promise<void> {
    for (const node of await this.nodes.markStale(now)) {
      for (const i of await this.instances.findBy({ node: node.name, status: In(ACTIVE) })) {
        await this.transition(i.id, 'error', ACTIVE, `node ${node.name} is offline: no heartbeat since ${node.lastSeen}`);
      }
    }
  }

  async launch(req: SessionInstanceLaunchDto): Promise<InstanceOperation> {
    if (req.stream_account !== undefined && req.enable_streaming !== true) throw invalid('stream_account needs enable_streaming: true');
    const target = await this.apps.resolveLaunchable(req.app, req.app_version);
    const { manifest } = target;
    const screen = {
      width: req.screen?.width ?? manifest.display.width,
      height: req.screen?.height ?? manifest.display.height,
      fps: req.screen?.fps ?? manifest.display.fps,
      density: req.screen?.density ?? 240,
    };
    if (manifest.kind === 'test-pattern' && (screen.width < TEST_PATTERN_MIN_WIDTH || screen.height < TEST_PATTERN_MIN_HEIGHT)) {
      throw invalid(
        `screen ${screen.width}x${screen.height} is too small for a test-pattern application: it needs at least ${TEST_PATTERN_MIN_WIDTH}x${TEST_PATTERN_MIN_HEIGHT} for its timestamp strip`,
      );
    }
    const instance = await this.tx.run(async (m) => {
      const node = await this.nodes.pickNode(m, manifest.resources.cpus, manifest.resources.memory, req.node);
      const now = nowIso();
      return m.getRepository(Instance).save(
        m.getRepository(Instance).create({
          id: newId(),
          app: target.app,
          appVersion: target.version,
          node,
          status: 'created',
          statusMessage: '',
          screen,
          cpus: manifest.resources.cpus,
          memory: manifest.resources.memory,
          enableStreaming: req.enable_streaming === true || req.session_id !== undefined,
          sessionId: req.session_id ?? null,
          userData: req.user_data ?? null,
          createdAt: now,
          updatedAt: now,
        }),
      );
    });
    if (instance.enableStreaming && !instance.sessionId) {
      instance.sessionId = await this.createSession(instance, req.stream_account);
    }
    this.announce(instance);
    const operation = await this.operations.create(`launch instance ${instance.id}`, this.resources(instance.id));
    if (req.no_start) {
      this.operations.run(operation.id, async () => undefined);
    } else {
      this.operations.run(operation.id, () => this.bringUp(instance.id, req.node === undefined, { instance, target }));
    }
    return { instance: toView(instance), operation };
  }

  /** A stream-enabled instance launched at AMS gets its gateway session through an agent. */
  private async createSession(instance: Instance, account: string | undefined): Promise<string> {
    const request: Omit<InstanceSessionRequest, 'region'> = {
      instance_id: instance.id,
      app: instance.app,
      app_version: instance.appVersion,
      node: instance.node,
      screen: instance.screen,
      ...(account === undefined ? {} : { account }),
    };
    try {
      const session = await this.rpc.request<{ id: string }>(Patterns.agentInstanceSession, request);
      await this.instances.update({ id: instance.id }, { sessionId: session.id });
      return session.id;
    } catch (e) {
      // Without a session the instance cannot stream: it was never launched.
      await this.instances.delete({ id: instance.id });
      throw DomainError.from(e);
    }
  }

  async list(filter: { app?: string; status?: InstanceStatus } = {}): Promise<InstanceView[]> {
    const where = { ...(filter.app ? { app: filter.app } : {}), ...(filter.status ? { status: filter.status } : {}) };
    return (await this.instances.find({ where, order: { createdAt: 'ASC', id: 'ASC' } })).map(toView);
  }

  async get(id: string): Promise<InstanceView> {
    return toView(await this.require(id));
  }

  /** Starts a created or stopped instance again, on its node if that still has room. */
  async start(id: string): Promise<InstanceOperation> {
    const instance = await this.tx.run(async (m) => {
      const i = await m.getRepository(Instance).findOne({ where: { id }, ...forUpdate(m) });
      if (!i) throw notFound('instance', id);
      if (ACTIVE.includes(i.status)) throw conflict(`instance ${id} is ${i.status} already`);
      if (i.status === 'stopped' || i.status === 'error') {
        // Its reservation was released when it stopped: take it again.
        await this.nodes.pickNode(m, i.cpus, i.memory, i.node ?? undefined);
      }
      i.status = 'created';
      i.statusMessage = '';
      i.updatedAt = nowIso();
      return m.getRepository(Instance).save(i);
    });
    this.announce(instance);
    return this.runOperation(`start instance ${id}`, instance, () => this.bringUp(id));
  }

  async stop(id: string): Promise<InstanceOperation> {
    const instance = await this.require(id);
    if (!ACTIVE.includes(instance.status) && instance.status !== 'created') {
      throw conflict(`instance ${id} is ${instance.status}, not running`);
    }
    return this.runOperation(`stop instance ${id}`, instance, () => this.bringDown(id));
  }

  /** Deletes an instance; a running one only with `force`, and then it is stopped first. */
  async delete(id: string, force = false): Promise<InstanceOperation> {
    const instance = await this.require(id);
    if (ACTIVE.includes(instance.status) && !force) {
      throw conflict(`instance ${id} is ${instance.status}; stop it first or delete with force=true`);
    }
    return this.runOperation(`delete instance ${id}`, instance, () => this.remove(id, force));
  }

  private async remove(id: string, force: boolean): Promise<void> {
    const instance = await this.require(id);
    if (ACTIVE.includes(instance.status)) await this.bringDown(id, force);
    if (instance.node) {
      await this.rpc.request(nodePattern(instance.node, 'delete'), { instance_id: id }).catch((e: unknown) => {
        if (!force) throw e;
        this.logger.warn(`instance ${id}: node ${instance.node} did not clean up: ${DomainError.from(e).message}`);
      });
    }
    const gone = await this.require(id);
    await this.instances.delete({ id });
    this.announce({ ...gone, status: 'deleted', updatedAt: nowIso() });
  }

  async logs(id: string): Promise<string> {
    const instance = await this.require(id);
    if (!instance.node) throw conflict(`instance ${id} has no node, so no logs`);
    return this.rpc.request<string>(nodePattern(instance.node, 'logs'), { instance_id: id });
  }

  /** What a node's runtime saw happen to an instance. */
  async onNodeReport(ev: NodeInstanceStatusEvent): Promise<void> {
    const instance = await this.instances.findOneBy({ id: ev.instance_id });
    if (!instance || instance.node !== ev.node) return;
    if (ev.status === 'running') {
      await this.markRunning(ev.instance_id, instance.status);
    } else if (ev.status === 'error') {
      await this.transition(ev.instance_id, 'error', ACTIVE, ev.reason ?? 'the instance failed');
    } else {
      await this.transition(ev.instance_id, 'stopped', ACTIVE, ev.reason ?? '');
    }
  }

  /**
   * A node (re)registered running `running`: anything else AMS had on it is not running any more,
   * and starts again there at once. It goes straight back to `created` (keeping its reservation),
   * not through `stopped`: its session is waiting for it, not over.
   */
  async reconcileNode(node: string, running: string[]): Promise<void> {
    const lost = await this.instances.findBy({ node, status: In(ACTIVE) });
    for (const i of lost.filter((l) => !running.includes(l.id) && !this.busy.has(l.id))) {
      if (!(await this.transition(i.id, 'created', ACTIVE, `node ${node} restarted: starting it again`))) continue;
      this.logger.log(`instance ${i.id} was running on ${node} before it restarted: starting it again`);
      await this.runOperation(`restart instance ${i.id}`, i, () => this.bringUp(i.id));
    }
  }

  /**
   * A node's heartbeat lists what it runs. What AMS is waiting on and the node runs is running (its
   * report was lost, say while AMS restarted); what AMS has as running there and the node no longer
   * runs has failed (its report of the end was lost). An instance that changed within the last two
   * heartbeats is left alone: the list may be older than that change.
   */
  async reconcileHeartbeat(node: string, running: string[], now = Date.now()): Promise<void> {
    const mine = await this.instances.findBy({ node, status: In(ACTIVE) });
    // What the node runs and AMS does not have as active there (failed while the node was out of
    // reach, deleted meanwhile): nobody can reach it any more, so it only holds the node's resources.
    // One AMS still records keeps its logs (stop); one it deleted goes altogether (delete).
    const active = new Set(mine.map((i) => i.id));
    const strays = running.filter((r) => !active.has(r) && !this.busy.has(r));
    const recorded = new Set(strays.length ? (await this.instances.findBy({ id: In(strays) })).map((i) => i.id) : []);
    for (const id of strays) {
      this.logger.warn(`node ${node} runs instance ${id}, which AMS does not have as active there: stopping it`);
      await this.rpc.request(nodePattern(node, recorded.has(id) ? 'stop' : 'delete'), { instance_id: id }).catch((e: unknown) =>
        this.logger.warn(`instance ${id}: node ${node} did not stop it: ${DomainError.from(e).message}`),
      );
    }
    for (const i of mine) {
      if (this.busy.has(i.id) && i.status !== 'started') continue;
      if (running.includes(i.id)) {
        if (i.status !== 'running') await this.markRunning(i.id, i.status);
      } else if (i.status === 'running' && now - Date.parse(i.updatedAt) > 2 * Limits.nodeHeartbeatMs) {
        await this.transition(i.id, 'error', ['running'], `node ${node} no longer runs it`);
      }
    }
  }

  private async runOperation(description: string, instance: Instance, work: () => Promise<void>): Promise<InstanceOperation> {
    const operation = await this.operations.create(description, this.resources(instance.id));
    this.operations.run(operation.id, work);
    return { instance: toView(instance), operation };
  }

  /** Marks `id` as worked on by this process (see `busy`) until the returned function is called. */
  private claim(id: string): () => void {
    this.busy.set(id, (this.busy.get(id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.busy.get(id) ?? 1) - 1;
      if (n > 0) this.busy.set(id, n);
      else this.busy.delete(id);
    };
  }

  private async working<T>(id: string, work: () => Promise<T>): Promise<T> {
    const release = this.claim(id);
    try {
      return await work();
    } finally {
      release();
    }
  }

  /**
   * prepared → (node starts it) → started → (node reports) → running. From where the instance is:
   * a resumed launch may find it prepared (the node may or may not have it) or started.
   */
  private bringUp(id: string, movable = false, launched?: Launched): Promise<void> {
    return this.working(id, () => this.bringUpNow(id, movable, launched));
  }

  /**
   * `movable`: placed by AMS (not pinned to its node), so a node that does not answer can be left
   * for another. `launched`: the instance as its launch just wrote it and the version it resolved
   * (not read again on the way to the node's start).
   */
  private async bringUpNow(id: string, movable: boolean, launched?: Launched): Promise<void> {
    const instance = launched?.instance ?? (await this.require(id));
    if (instance.status === 'running') return;
    const target = launched?.target ?? (await this.apps.resolveLaunchable(instance.app, instance.appVersion).catch(() => null));
    if (!target || !instance.node) {
      await this.transition(id, 'error', ['created'], `application ${instance.app} version ${instance.appVersion} is gone`);
      throw conflict(`application ${instance.app} version ${instance.appVersion} cannot be launched any more`);
    }
    await this.transition(id, 'prepared', ['created']);
    const request: NodeInstanceStartRequest = {
      instance_id: id,
      app: instance.app,
      app_version: instance.appVersion,
      kind: target.manifest.kind,
      command: target.manifest.command,
      display: { width: instance.screen.width, height: instance.screen.height, fps: instance.screen.fps },
      encoder: target.manifest.encoder,
      app_dir: target.packageDir ?? undefined,
      user_data: instance.userData ?? undefined,
      session_id: instance.sessionId ?? undefined,
      resources: { cpus: instance.cpus, memory: instance.memory },
      network: target.manifest.network,
      env: target.manifest.env,
    };
    const running = this.waitFor(id, ['running', 'error', 'stopped'], INSTANCE_START_TIMEOUT_MS);
    if (instance.status !== 'started') {
      try {
        await this.rpc.request(nodePattern(instance.node, 'start'), request, { timeoutMs: INSTANCE_START_TIMEOUT_MS });
      } catch (e) {
        const error = DomainError.from(e);
        if (movable && unanswered(error)) {
          // A dead node still looks online until its heartbeats are 30 s old, and as the emptiest
          // it won every placement: it is offline from now (a live one's next heartbeat says
          // otherwise), and this instance goes to another node if one has room.
          running.cancel();
          await this.nodes.markUnreachable(instance.node, error.message);
          const moved = await this.replace(id).catch((e2: unknown) => DomainError.from(e2));
          if (!(moved instanceof DomainError)) {
            this.logger.warn(`instance ${id}: node ${instance.node} did not answer (${error.message}); starting it on ${moved} instead`);
            return this.bringUpNow(id, false);
          }
          await this.transition(id, 'error', ACTIVE, `node ${instance.node} could not start it: ${error.message}; and no other node can: ${moved.message}`);
          throw error;
        }
        // Started by a launch that a restart interrupted: it is there, wait for it as for any.
        if (!(instance.status === 'prepared' && error.code === 'conflict')) {
          running.cancel();
          await this.transition(id, 'error', ACTIVE, `node ${instance.node} could not start it: ${error.message}`);
          throw error;
        }
      }
      await this.transition(id, 'started', ['prepared']);
    }
    const status = await running.promise;
    if (status === 'timeout') {
      await this.bringDown(id, true);
      await this.transition(id, 'error', ['stopped'], `it did not report running within ${INSTANCE_START_TIMEOUT_MS / 1000} s`);
    }
    if (status !== 'running') {
      const now = await this.require(id);
      throw new DomainError('internal', `instance ${id} is ${now.status}: ${now.statusMessage}`);
    }
  }

  /** Places a prepared instance again (its node did not answer); returns the new node. */
  private async replace(id: string): Promise<string> {
    const moved = await this.tx.run(async (m) => {
      const repo = m.getRepository(Instance);
      const i = await repo.findOne({ where: { id }, ...forUpdate(m) });
      if (!i || i.status !== 'prepared') throw conflict(`instance ${id} is ${i?.status ?? 'gone'}`);
      i.node = await this.nodes.pickNode(m, i.cpus, i.memory);
      i.updatedAt = nowIso();
      return repo.save(i);
    });
    this.announce(moved);
    return moved.node!;
  }

  private bringDown(id: string, force = false): Promise<void> {
    return this.working(id, () => this.bringDownNow(id, force));
  }

  private async bringDownNow(id: string, force: boolean): Promise<void> {
    const instance = await this.require(id);
    if (instance.node && instance.status !== 'created') {
      try {
        await this.rpc.request(nodePattern(instance.node, 'stop'), { instance_id: id });
      } catch (e) {
        if (!force) throw e;
        this.logger.warn(`instance ${id}: node ${instance.node} did not stop it: ${DomainError.from(e).message}`);
      }
    }
    await this.transition(id, 'stopped', [...ACTIVE, 'created'], 'stopped on request');
  }

  /**
   * The node runs it. The node says so just before it answers the start request, so its report
   * may come first: the instance still goes through started (the answer's own transition then
   * finds it done), and every lifecycle event is published in order. `seen`: its status as just
   * read (an instance read past prepared never goes back: no transaction to find that out).
   */
  private async markRunning(id: string, seen: InstanceStatus): Promise<void> {
    if (seen === 'prepared') await this.transition(id, 'started', ['prepared']);
    await this.transition(id, 'running', ['started']);
  }

  /** Moves an instance to `to` if it is in one of `from`; persists and publishes the change. */
  private async transition(id: string, to: InstanceStatus, from: readonly InstanceStatus[], message = ''): Promise<boolean> {
    const changed = await this.tx.run(async (m) => {
      const repo = m.getRepository(Instance);
      const i = await repo.findOne({ where: { id }, ...forUpdate(m) });
      if (!i || !from.includes(i.status)) return null;
      i.status = to;
      i.statusMessage = message;
      i.updatedAt = nowIso();
      return repo.save(i);
    });
    if (changed) this.announce(changed);
    return changed !== null;
  }

  private announce(i: Instance): void {
    this.logger.log(`instance ${i.id} ${i.status}${i.statusMessage ? `: ${i.statusMessage}` : ''}`);
    const event: InstanceStatusEvent = {
      id: i.id,
      app: i.app,
      node: i.node,
      status: i.status,
      status_message: i.statusMessage,
      session_id: i.sessionId,
      timestamp: i.updatedAt,
    };
    this.rpc.emit(Patterns.amsInstanceStatus, event);
    this.events.publish('lifecycle', { action: LIFECYCLE_ACTION[i.status], id: i.id, status: i.status, message: i.statusMessage });
    this.changes.emit(i.id, i.status);
  }

  /** Resolves with the first of `statuses` the instance reaches (or its status at the timeout). */
  private waitFor(id: string, statuses: InstanceStatus[], timeoutMs: number) {
    let cancel = () => undefined as void;
    const promise = new Promise<InstanceStatus | 'timeout'>((resolve) => {
      const onChange = (status: InstanceStatus) => {
        if (statuses.includes(status)) finish(status);
      };
      const finish = (s: InstanceStatus | 'timeout') => {
        clearTimeout(timer);
        this.changes.off(id, onChange);
        resolve(s);
      };
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      this.changes.on(id, onChange);
      cancel = () => finish('timeout');
    });
    return { promise, cancel: () => cancel() };
  }

  private resources(id: string) {
    return { instances: [`/ams/1.0/instances/${id}`] };
  }

  private async require(id: string): Promise<Instance> {
    const instance = await this.instances.findOneBy({ id });
    if (!instance) throw notFound('instance', id);
    return instance;
  }
}
