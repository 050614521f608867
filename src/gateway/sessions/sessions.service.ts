import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import {
  agentPattern,
  ClientStateEvent,
  conflict,
  DomainError,
  InstanceSessionRequest,
  InstanceStatusEvent,
  invalid,
  notFound,
  Patterns,
  SessionChangedDto,
  SessionLaunchReply,
  SessionLaunchRequest,
  type SessionStatus,
  type SessionView,
} from '@streamstack/contracts';
import { forUpdate, newId, TransactionRunner } from '@streamstack/persistence';
import { RpcClient, unanswered } from '@streamstack/transport';
import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { FindOptionsWhere, In, Repository } from 'typeorm';
import { Caller } from '../../common/auth/auth.decorators';
import { Clock } from '../../common/clock';
import { StreamstackConfig } from '../../config/config.schema';
import { AccountsService } from '../accounts/accounts.service';
import { AgentsService } from '../regions/agents.service';
import { TicketService } from '../signalling/tickets';
import { StunServer, stunServersFor } from '../turn/stun-servers';
import { Session } from './session.entity';
import { CreateSessionDto, ListSessionsQuery } from './session.dto';

/** An ephemeral session whose client left is ended after this, unless the client came back. */
export const EPHEMERAL_GRACE_MS = 10_000;
const LIVE: SessionStatus[] = ['created', 'active'];
/** The status message of an active session whose instance is starting again (its node restarted). */
const RESTARTING = 'its instance is restarting: ';
/** A termination waiting for its region is tried again this often (by the reaper). */
export const TERMINATE_RETRY_MS = 5000;

export type JoinMode = 'driver' | 'spectator';

export type SessionWithSignalling = SessionView & { url: string; stun_servers: StunServer[] };

export const toView = (s: Session): SessionView => ({
  id: s.id,
  app: s.app,
  app_version: s.appVersion,
  region: s.region,
  instance_id: s.instanceId,
  node: s.node,
  joinable: s.joinable,
  ephemeral: s.ephemeral,
  idle_time_min: s.idleTimeMin,
  status: s.status,
  status_message: s.statusMessage,
  screen: s.screen,
  peers: { driver: s.clientConnected, spectators: s.spectators },
  instance_restarting: s.status === 'active' && s.statusMessage.startsWith(RESTARTING),
  created_at: s.createdAt,
  updated_at: s.updatedAt,
});

/** What the signalling relay hears about sessions. */
export interface SessionSignals {
  /** The session's instance can take signalling now. */
  active: [sessionId: string];
  /** A newer client generation took over (join), or the session ended. */
  replaced: [sessionId: string, generation: number];
  ended: [sessionId: string];
}

/**
 * Gateway sessions (PROTOCOL.md §3): created here, hosted by an agent's AMS, and ended by
 * their client, their idle time or a DELETE. The only code that changes a session's row.
 */
@Injectable()
export class SessionsService {
  private readonly logger = new Logger('sessions');
  readonly signals = new EventEmitter<SessionSignals>();

  constructor(
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    private readonly tx: TransactionRunner,
    private readonly agents: AgentsService,
    private readonly accounts: AccountsService,
    private readonly tickets: TicketService,
    private readonly rpc: RpcClient,
    private readonly config: StreamstackConfig,
    private readonly clock: Clock,
  ) {
    this.signals.setMaxListeners(0);
  }

  async create(caller: Caller, req: CreateSessionDto): Promise<SessionWithSignalling> {
    const idle = req.idle_time_min ?? 0;
    if (req.joinable && idle <= 0) throw invalid('joinable sessions need idle_time_min > 0');
    let region = this.agents.pick(req.region ?? '').region;
    const now = this.now();
    const session = await this.sessions.save(
      this.sessions.create({
        id: newId(),
        accountId: caller.id,
        app: req.app,
        appVersion: req.app_version ?? null,
        region,
        instanceId: null,
        node: null,
        joinable: req.joinable ?? false,
        ephemeral: req.ephemeral ?? true,
        idleTimeMin: idle,
        status: 'created',
        statusMessage: '',
        screen: {
          width: req.screen?.width ?? 1280,
          height: req.screen?.height ?? 720,
          fps: req.screen?.fps ?? 30,
          density: req.screen?.density ?? 240,
        },
        extraData: req.extra_data ?? null,
        clientGeneration: 1,
        clientConnected: false,
        lastClientActivityAt: now,
        clientLeftAt: null,
        createdAt: now,
        updatedAt: now,
      }),
    );
    const launch: SessionLaunchRequest = {
      session_id: session.id,
      app: session.app,
      app_version: req.app_version,
      screen: session.screen,
      extra_data: req.extra_data,
    };
    let reply: SessionLaunchReply;
    for (;;) {
      try {
        reply = await this.rpc.request<SessionLaunchReply>(agentPattern(region, 'session.launch'), launch);
        break;
      } catch (e) {
        const err = DomainError.from(e);
        // Nobody serves the region: its agents died (they stay registered up to 30 s). Another
        // region takes the session when the caller did not ask for this one.
        const next = err.code === 'no_responder' ? this.failover(region, req.region) : null;
        if (next === null) {
          // Nothing was launched: the session never existed.
          await this.sessions.delete({ id: session.id });
          throw err;
        }
        this.logger.warn(`session ${session.id}: region ${region} did not answer; launching in ${next}`);
        region = next;
        await this.update(session.id, (s) => {
          s.region = next;
        });
      }
    }
    const updated = await this.update(session.id, (s) => {
      s.instanceId = reply.instance_id;
      s.node = reply.node;
      s.appVersion = reply.app_version;
    });
    this.logger.log(`session ${session.id} created for ${session.app} in ${region} (instance ${reply.instance_id})`);
    if (reply.status === 'running') await this.markActive(session.id);
    return this.withSignalling(updated ?? session);
  }

  /** After `dead` did not answer: forgets its agents; another region unless `asked` pins one, else null. */
  private failover(dead: string, asked: string | undefined): string | null {
    this.agents.forgetRegion(dead);
    if (asked) return null;
    try {
      return this.agents.pick('').region;
    } catch {
      return null;
    }
  }

  /** A session for an instance that AMS launched with streaming on: the named account's, else admins' only. */
  async createForInstance(req: InstanceSessionRequest): Promise<SessionView> {
    const accountId = req.account === undefined ? null : await this.accounts.idOf(req.account);
    const now = this.now();
    const session = await this.sessions.save(
      this.sessions.create({
        id: newId(),
        accountId,
        app: req.app,
        appVersion: req.app_version,
        region: req.region,
        instanceId: req.instance_id,
        node: req.node,
        joinable: true,
        ephemeral: false,
        idleTimeMin: 0,
        status: 'created',
        statusMessage: '',
        screen: req.screen,
        extraData: null,
        clientGeneration: 0,
        clientConnected: false,
        lastClientActivityAt: now,
        clientLeftAt: null,
        createdAt: now,
        updatedAt: now,
      }),
    );
    return toView(session);
  }

  async list(caller: Caller, q: ListSessionsQuery): Promise<{ items: SessionView[]; total: number }> {
    const where: FindOptionsWhere<Session> = { ...this.ownedBy(caller), ...(q.status ? { status: q.status } : {}) };
    const sortColumn = { created_at: 'createdAt', updated_at: 'updatedAt', status: 'status', app: 'app' }[q.sort_by ?? 'created_at'] as keyof Session;
    const direction = (q.sort_order ?? 'asc').toUpperCase() as 'ASC' | 'DESC';
    const [rows, total] = await this.sessions.findAndCount({
      where,
      order: { [sortColumn]: direction, id: direction },
      skip: q.offset ?? 0,
      take: q.limit ?? 100,
    });
    return { items: rows.map(toView), total };
  }

  async get(caller: Caller, id: string): Promise<SessionView> {
    return toView(await this.requireOwned(caller, id));
  }

  /**
   * A new client for a joinable session: the previous client's signalling ends. A spectator
   * (PROTOCOL.md §3) joins any live session beside its driver, up to the per-session cap, with
   * an id of its own in place of a generation, and disturbs nobody.
   */
  async join(caller: Caller, id: string, mode: JoinMode = 'driver'): Promise<{ id: string; url: string; stun_servers: StunServer[] }> {
    const session = await this.requireOwned(caller, id);
    if (!LIVE.includes(session.status)) throw conflict(`session ${id} is ${session.status}`);
    if (mode === 'spectator') {
      if (!this.hasRoomForSpectator(session)) throw conflict(`session ${id} has ${session.spectators} spectators already, its most (STREAMSTACK_SESSION_MAX_SPECTATORS)`);
      const { url, stun_servers } = this.withSignalling(session, randomInt(1, 2 ** 31));
      return { id, url, stun_servers };
    }
    if (!session.joinable) throw conflict(`session ${id} is not joinable`);
    const updated = (await this.update(id, (s) => {
      s.clientGeneration += 1;
      s.lastClientActivityAt = this.now();
    }))!;
    this.announce(id, 'replaced', updated.clientGeneration);
    const { url, stun_servers } = this.withSignalling(updated);
    return { id, url, stun_servers };
  }

  /**
   * The instance-side signalling url of a session: for a streamer that runs outside this
   * stack's node runtime and answers the session's clients over a WebSocket instead.
   */
  async instanceSignalling(id: string): Promise<{ url: string }> {
    const session = await this.sessions.findOneBy({ id });
    if (!session || !LIVE.includes(session.status)) throw notFound('live session', id);
    const base = this.config.publicUrl.replace(/^http/, 'ws');
    return { url: `${base}/1.0/signaling/instance?ticket=${this.tickets.issue(id, 0, 'instance')}` };
  }

  /** Ends a session and deletes its instance (through its agent). */
  async terminate(caller: Caller | null, id: string, force = false, reason = 'deleted'): Promise<SessionView> {
    const session = caller ? await this.requireOwned(caller, id) : await this.sessions.findOneBy({ id });
    if (!session) throw notFound('session', id);
    if (session.status === 'terminated') return toView(session);
    await this.update(id, (s) => {
      s.status = 'terminating';
      s.statusMessage = reason;
    });
    this.announce(id, 'ended');
    if (session.instanceId) {
      try {
        await this.rpc.request(agentPattern(session.region, 'session.terminate'), { instance_id: session.instanceId });
      } catch (e) {
        const err = DomainError.from(e);
        if (unanswered(err)) {
          // The region's agent or AMS is down: the session ends for its users now, and its
          // instance is deleted once they answer again (reap() retries), never left running.
          const pending = (await this.update(id, (s) => {
            s.statusMessage = `${reason}; its instance is deleted once region ${s.region} answers (${err.message})`;
          }))!;
          this.logger.warn(`session ${id}: ${pending.statusMessage}`);
          return toView(pending);
        }
        if (!force && err.code !== 'not_found') {
          await this.update(id, (s) => {
            s.status = 'error';
            s.statusMessage = `could not delete its instance: ${err.message}`;
          });
          throw err;
        }
      }
    }
    const ended = (await this.update(id, (s) => {
      s.status = 'terminated';
    }))!;
    this.logger.log(`session ${id} terminated: ${reason}`);
    return toView(ended);
  }

  /** A termination whose instance could not be deleted yet (its region did not answer): again. */
  private async retryTermination(session: Session): Promise<boolean> {
    try {
      await this.rpc.request(agentPattern(session.region, 'session.terminate'), { instance_id: session.instanceId });
    } catch (e) {
      const err = DomainError.from(e);
      if (err.code !== 'not_found') {
        await this.update(session.id, () => undefined); // counts the attempt (updatedAt)
        return false;
      }
    }
    await this.update(session.id, (s) => {
      s.status = 'terminated';
      s.statusMessage = s.statusMessage.replace(/; its instance is deleted once .*$/, '');
    });
    this.logger.log(`session ${session.id}: its instance is deleted now; terminated`);
    return true;
  }

  /** DELETE /1.0/sessions {ids}: each id on its own; the caller learns which failed. */
  async terminateMany(caller: Caller, ids: string[], force = false): Promise<{ id: string; error?: string; status_code: number }[]> {
    const results = [];
    for (const id of [...new Set(ids)]) {
      try {
        await this.terminate(caller, id, force);
        results.push({ id, status_code: 200 });
      } catch (e) {
        const err = DomainError.from(e);
        results.push({ id, status_code: err.status, error: err.message });
      }
    }
    return results;
  }

  /** AMS reports its instances' lifecycle; a session follows its instance. */
  async onInstanceStatus(ev: InstanceStatusEvent): Promise<void> {
    // Steps on the way up change nothing here; not even a read (they come as a viewer waits).
    if (ev.status === 'prepared' || ev.status === 'started') return;
    const session = ev.session_id
      ? await this.sessions.findOneBy({ id: ev.session_id })
      : await this.sessions.findOneBy({ instanceId: ev.id });
    if (!session) return;
    if (ev.status === 'running') {
      if (session.node !== ev.node || session.instanceId !== ev.id || session.statusMessage.startsWith(RESTARTING)) {
        await this.update(session.id, (s) => {
          s.node = ev.node;
          s.instanceId = ev.id;
          if (s.statusMessage.startsWith(RESTARTING)) s.statusMessage = '';
        });
      }
      await this.markActive(session.id);
    } else if (ev.status === 'created' && session.status === 'active') {
      // Started again (its node restarted): the session waits for it; its client joins again once it runs.
      await this.update(session.id, (s) => {
        s.statusMessage = `${RESTARTING}${ev.status_message}`;
        s.spectators = 0; // their peers went with the instance
      });
    } else if (ev.status === 'error' && LIVE.includes(session.status)) {
      await this.fail(session.id, `its instance failed: ${ev.status_message}`);
    } else if ((ev.status === 'stopped' || ev.status === 'deleted') && LIVE.includes(session.status)) {
      await this.fail(session.id, `its instance was ${ev.status}${ev.status_message ? `: ${ev.status_message}` : ''}`);
    }
  }

  /** The instance's streamer saw the client's peer connection come or go. */
  async onClientState(ev: ClientStateEvent): Promise<void> {
    if (ev.spectator) {
      if (ev.state === 'failed') return; // it never counted
      await this.update(ev.session_id, (s) => {
        s.spectators = Math.max(0, s.spectators + (ev.state === 'connected' ? 1 : -1));
      });
      return;
    }
    await this.update(ev.session_id, (s) => {
      if (s.clientGeneration !== ev.generation) return false; // an older client's peer
      s.clientConnected = ev.state === 'connected';
      s.lastClientActivityAt = this.now();
      if (ev.state !== 'connected') s.clientLeftAt = this.now();
      // The session lives on (the client may join again); what went wrong is on record, unless
      // its instance is restarting: that message (and instance_restarting) stays until it runs.
      if (s.statusMessage.startsWith(RESTARTING)) return;
      if (ev.state === 'failed') s.statusMessage = `the client's peer connection failed: ${ev.reason ?? 'no reason given'}`;
      else if (ev.state === 'connected') s.statusMessage = '';
    });
  }

  /** A client's signalling socket closed before its peer ever connected. */
  async onClientSocketClosed(sessionId: string, generation: number): Promise<void> {
    await this.update(sessionId, (s) => {
      if (s.clientGeneration !== generation || s.clientConnected) return false;
      s.clientLeftAt = this.now();
      s.lastClientActivityAt = this.now();
    });
  }

  /**
   * Ends what the lifecycle rules say must end: ephemeral sessions whose client left (after a
   * grace period for reconnects) and sessions nobody joined for `idle_time_min`.
   */
  async reap(): Promise<string[]> {
    const now = this.clock.now();
    const ended: string[] = [];
    for (const s of await this.sessions.findBy({ status: In(LIVE), clientConnected: false })) {
      let reason: string | null = null;
      if (s.ephemeral && s.clientLeftAt && now - Date.parse(s.clientLeftAt) >= EPHEMERAL_GRACE_MS) {
        reason = 'its client disconnected';
      } else if (s.idleTimeMin > 0 && now - Date.parse(s.lastClientActivityAt) >= s.idleTimeMin * 60_000) {
        reason = `nobody joined it for ${s.idleTimeMin} min`;
      }
      if (!reason) continue;
      try {
        await this.terminate(null, s.id, true, reason);
        ended.push(s.id);
      } catch (e) {
        this.logger.warn(`could not end session ${s.id}: ${DomainError.from(e).message}`);
      }
    }
    // Terminations left for when their region answers (not one still in flight: it has just been written).
    for (const s of await this.sessions.findBy({ status: 'terminating' })) {
      if (s.instanceId && now - Date.parse(s.updatedAt) >= TERMINATE_RETRY_MS && (await this.retryTermination(s))) ended.push(s.id);
    }
    return ended;
  }

  /** What a signalling socket needs to know about its session. */
  async forSignalling(id: string): Promise<Session | null> {
    return this.sessions.findOneBy({ id });
  }

  /** A change made by another gateway (or this one): `signals` tell the sockets held here. */
  onSessionChanged(ev: SessionChangedDto): void {
    if (ev.change === 'replaced') this.signals.emit('replaced', ev.session_id, ev.generation ?? 0);
    else this.signals.emit(ev.change, ev.session_id);
  }

  /**
   * Tells every gateway (this one included): the session's signalling socket may be held by
   * any of them, while one of them alone made the change (see ONE_GATEWAY).
   */
  private announce(id: string, change: SessionChangedDto['change'], generation?: number): void {
    this.rpc.emit(Patterns.gatewaySessionChanged, { session_id: id, change, ...(generation === undefined ? {} : { generation }) });
  }

  private async markActive(id: string): Promise<void> {
    const changed = await this.update(id, (s) => {
      if (s.status !== 'created') return false;
      s.status = 'active';
      s.statusMessage = '';
    });
    if (changed) this.announce(id, 'active');
  }

  private async fail(id: string, message: string): Promise<void> {
    await this.update(id, (s) => {
      s.status = 'error';
      s.statusMessage = message;
    });
    this.logger.warn(`session ${id} failed: ${message}`);
    this.announce(id, 'ended');
  }

  /** Read-modify-write in one transaction; `change` returning false leaves the row alone. */
  private async update(id: string, change: (s: Session) => void | false): Promise<Session | null> {
    return this.tx.run(async (m) => {
      const repo = m.getRepository(Session);
      const s = await repo.findOne({ where: { id }, ...forUpdate(m) });
      if (!s || change(s) === false) return null;
      s.updatedAt = this.now();
      return repo.save(s);
    });
  }

  /**
   * Whether one more spectator may watch `session` now. Connected spectators count (their
   * instance reports them); the media process caps what joins at once beyond that.
   */
  hasRoomForSpectator(session: Session): boolean {
    return session.spectators < this.config.sessionMaxSpectators;
  }

  /** The session with a signalling url for its driver, or for spectator `spectator`. */
  private withSignalling(s: Session, spectator?: number): SessionWithSignalling {
    const base = this.config.publicUrl.replace(/^http/, 'ws');
    const ticket = spectator === undefined ? this.tickets.issue(s.id, s.clientGeneration, 'client') : this.tickets.issue(s.id, spectator, 'client', { spectator: true });
    return {
      ...toView(s),
      url: `${base}/1.0/signaling/client?ticket=${ticket}`,
      stun_servers: stunServersFor(s.id, this.config, this.clock.now()),
    };
  }

  private ownedBy(caller: Caller): FindOptionsWhere<Session> {
    return caller.role === 'admin' ? {} : { accountId: caller.id };
  }

  /** A session the caller may see; another account's answers 404 exactly like a missing one. */
  private async requireOwned(caller: Caller, id: string): Promise<Session> {
    const session = await this.sessions.findOneBy({ id, ...this.ownedBy(caller) });
    if (!session) throw notFound('session', id);
    return session;
  }

  private now(): string {
    return new Date(this.clock.now()).toISOString();
  }
}
