import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DomainError, RelayedSignal, signalPattern } from '@streamstack/contracts';
import {
  ClientMessage,
  InstanceMessage,
  parseFrame,
  SIGNALLING_MAX_FRAME_BYTES,
  SignallingError,
  SignallingOrder,
  validateClientMessage,
  validateInstanceMessage,
} from '@streamstack/protocol';
import { RpcClient } from '@streamstack/transport';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { Clock } from '../../common/clock';
import { UpgradeRouter } from '../../common/ws/upgrade-router';
import { SessionsService } from '../sessions/sessions.service';
import { candidateAtAddress, peerAddress } from './mdns-candidate';
import { TICKET_TTL_MS, TicketService } from './tickets';

/** Invalid messages a client may send before its socket is closed (1008). */
export const MAX_STRIKES = 5;
/** Client messages held while the session's instance is still starting. */
export const MAX_QUEUED = 64;
/**
 * How long a session whose streamer said ready is remembered as taking messages: long enough
 * for the session to be written active, which a socket opened later then finds.
 */
const READY_KEPT_MS = 60_000;

export const CLOSE_POLICY = 1008;
export const CLOSE_REPLACED = 4001;
export const CLOSE_ENDED = 4002;

interface ClientLink {
  sessionId: string;
  /** The driver's client generation, or a spectator's own id. */
  generation: number;
  spectator: boolean;
  socket: WebSocket;
  /** The address its socket came from, where its mDNS-named host candidates likely are. */
  address: string | null;
  order: SignallingOrder;
  strikes: number;
  /** Messages for the instance, held until the session is active. */
  queue: ClientMessage[] | null;
}

/**
 * The gateway's half of signalling (PROTOCOL.md §4): one driving client socket per session
 * and up to the cap of spectators' sockets, every message validated and checked for order
 * before it is relayed over `signal.{session}.*`. Nothing it could not validate is forwarded,
 * in either direction.
 */
@Injectable()
export class SignallingRelay implements OnModuleInit {
  private readonly logger = new Logger('signalling');
  private readonly links = new Map<string, ClientLink>();
  /** Spectators' sockets, by session and spectator id. */
  private readonly spectators = new Map<string, Map<number, ClientLink>>();
  /** Instance-side sockets: a streamer outside this stack's node runtime, one per session. */
  private readonly instanceSockets = new Map<string, { socket: WebSocket; strikes: number }>();
  /** Ticket nonces that opened a socket already: a ticket opens one socket. */
  private readonly usedTickets = new Map<string, number>();
  /** Sessions whose client messages go to the instance (its streamer is ready, or it is active), and since when. */
  private readonly open = new Map<string, number>();

  constructor(
    private readonly router: UpgradeRouter,
    private readonly tickets: TicketService,
    private readonly sessions: SessionsService,
    private readonly rpc: RpcClient,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.router.add({
      path: '/1.0/signaling/client',
      maxPayload: SIGNALLING_MAX_FRAME_BYTES,
      authorise: (_req, url) => this.authorise(url),
      connected: (socket, link: Omit<ClientLink, 'socket'>, req) => this.attach(socket, link, req),
    });
    this.router.add({
      path: '/1.0/signaling/instance',
      maxPayload: SIGNALLING_MAX_FRAME_BYTES,
      authorise: (_req, url) => this.authoriseInstance(url),
      connected: (socket, sessionId: string) => this.attachInstance(socket, sessionId),
    });
    this.sessions.signals.on('active', (id) => this.instanceReady(id));
    this.sessions.signals.on('replaced', (id, generation) => {
      const link = this.links.get(id);
      if (link && link.generation < generation) link.socket.close(CLOSE_REPLACED, 'another client joined the session');
    });
    this.sessions.signals.on('ended', (id) => {
      this.open.delete(id);
      this.links.get(id)?.socket.close(CLOSE_ENDED, 'the session ended');
      for (const link of this.spectators.get(id)?.values() ?? []) link.socket.close(CLOSE_ENDED, 'the session ended');
      this.instanceSockets.get(id)?.socket.close(CLOSE_ENDED, 'the session ended');
    });
  }

  /**
   * The session's client messages go to its instance from now on: its streamer said ready (the
   * node's word, ahead of the session being written active), or the session is active.
   */
  instanceReady(sessionId: string): void {
    const now = this.clock.now();
    for (const [id, since] of this.open) if (since + READY_KEPT_MS < now) this.open.delete(id);
    this.open.set(sessionId, now);
    this.flush(sessionId);
  }

  /** A message from the instance's streamer for the client. */
  fromInstance(signal: RelayedSignal): void {
    const link = signal.spectator ? this.spectators.get(signal.session_id)?.get(signal.generation) : this.links.get(signal.session_id);
    if (!link || link.generation !== signal.generation) return; // that client is gone
    try {
      this.toClient(link, validateInstanceMessage(signal.message as Record<string, unknown>));
    } catch (e) {
      this.logger.warn(`session ${signal.session_id}: dropped an invalid message from the instance: ${(e as Error).message}`);
    }
  }

  /** The instance-side socket's session, if its ticket holds and no other instance socket is open. */
  private async authoriseInstance(url: URL): Promise<string> {
    const ticket = this.tickets.verify(url.searchParams.get('ticket'), 'instance');
    const session = await this.sessions.forSignalling(ticket.s);
    if (!session || session.status === 'terminated' || session.status === 'terminating') {
      throw new DomainError('not_found', `session ${ticket.s} is not live`);
    }
    if (this.instanceSockets.has(session.id)) throw new DomainError('conflict', 'an instance socket is open for this session already');
    return session.id;
  }

  private attachInstance(socket: WebSocket, sessionId: string): void {
    const entry = { socket, strikes: 0 };
    this.instanceSockets.set(sessionId, entry);
    socket.on('close', () => {
      if (this.instanceSockets.get(sessionId) === entry) this.instanceSockets.delete(sessionId);
    });
    socket.on('message', (data, isBinary) => {
      try {
        if (isBinary) throw new SignallingError('binary frames are not part of the protocol');
        const message = validateInstanceMessage(parseFrame(data.toString()));
        const link = this.links.get(sessionId);
        if (!link) throw new SignallingError('no client is connected to this session');
        this.toClient(link, message);
      } catch (e) {
        if (!(e instanceof SignallingError)) throw e;
        entry.strikes += 1;
        socket.send(JSON.stringify({ type: 'error', message: e.message }));
        if (entry.strikes >= MAX_STRIKES) socket.close(CLOSE_POLICY, 'too many invalid messages');
      }
    });
  }

  private async authorise(url: URL): Promise<Omit<ClientLink, 'socket' | 'address'>> {
    const ticket = this.tickets.verify(url.searchParams.get('ticket'), 'client');
    const session = await this.sessions.forSignalling(ticket.s);
    if (!session) throw new DomainError('not_found', `session ${ticket.s} not found`);
    if (session.status !== 'created' && session.status !== 'active') {
      throw new DomainError('conflict', `session ${session.id} is ${session.status}`);
    }
    const spectator = ticket.v === 1;
    if (!spectator && ticket.g !== session.clientGeneration) throw new DomainError('forbidden', 'another client has joined the session since this ticket was issued');
    if (spectator && !this.sessions.hasRoomForSpectator(session)) throw new DomainError('conflict', `session ${session.id} has as many spectators as it may`);
    this.pruneTickets();
    if (this.usedTickets.has(ticket.n)) throw new DomainError('conflict', 'this ticket has opened a signalling socket already; join the session again');
    this.usedTickets.set(ticket.n, ticket.e);
    return { sessionId: session.id, generation: ticket.g, spectator, order: new SignallingOrder(), strikes: 0, queue: session.status === 'active' ? null : [] };
  }

  private attach(socket: WebSocket, init: Omit<ClientLink, 'socket' | 'address'>, req: IncomingMessage): void {
    // Authorised while its session was starting, it holds its messages, unless that ended meanwhile.
    const link: ClientLink = { ...init, socket, address: peerAddress(req.socket.remoteAddress), queue: this.open.has(init.sessionId) ? null : init.queue };
    if (link.spectator) return this.attachSpectator(link);
    this.links.get(link.sessionId)?.socket.close(CLOSE_REPLACED, 'another client joined the session');
    this.links.set(link.sessionId, link);
    socket.on('message', (data, isBinary) => this.fromClient(link, isBinary ? null : data.toString()));
    socket.on('close', () => {
      if (this.links.get(link.sessionId) === link) this.links.delete(link.sessionId);
      void this.sessions.onClientSocketClosed(link.sessionId, link.generation).catch(() => undefined);
    });
  }

  /** A spectator beside the driver: it replaces nobody. */
  private attachSpectator(link: ClientLink): void {
    const { sessionId, generation, socket } = link;
    let watching = this.spectators.get(sessionId);
    if (!watching) this.spectators.set(sessionId, (watching = new Map()));
    watching.set(generation, link);
    socket.on('message', (data, isBinary) => this.fromClient(link, isBinary ? null : data.toString()));
    socket.on('close', () => {
      if (watching.get(generation) !== link) return;
      watching.delete(generation);
      if (watching.size === 0) this.spectators.delete(sessionId);
    });
  }

  private fromClient(link: ClientLink, frame: string | null): void {
    try {
      if (frame === null) throw new SignallingError('binary frames are not part of the protocol');
      const message = validateClientMessage(parseFrame(frame));
      link.order.checkFromClient(message);
      link.order.noteFromClient(message);
      const guess = message.type === 'candidate' && link.address ? candidateAtAddress(message, link.address) : null;
      if (link.queue && link.queue.length >= MAX_QUEUED) throw new SignallingError('too many messages while the instance is starting');
      for (const m of guess ? [message, guess] : [message]) {
        if (link.queue) link.queue.push(m);
        else this.toInstance(link, m);
      }
    } catch (e) {
      if (!(e instanceof SignallingError)) throw e;
      link.strikes += 1;
      link.socket.send(JSON.stringify({ type: 'error', message: e.message }));
      if (link.strikes >= MAX_STRIKES) link.socket.close(CLOSE_POLICY, 'too many invalid messages');
    }
  }

  /** Throws (and sends nothing) when the message is out of order. */
  private toClient(link: ClientLink, message: InstanceMessage): void {
    link.order.checkFromInstance(message);
    link.order.noteFromInstance(message);
    link.socket.send(JSON.stringify(message));
  }

  private flush(sessionId: string): void {
    for (const link of [this.links.get(sessionId), ...(this.spectators.get(sessionId)?.values() ?? [])]) {
      if (!link?.queue) continue;
      const queued = link.queue;
      link.queue = null;
      for (const message of queued) this.toInstance(link, message);
    }
  }

  /** To the instance's streamer over the transport, and to an instance-side socket if one is open. */
  private toInstance(link: ClientLink, message: ClientMessage): void {
    const signal: RelayedSignal = { session_id: link.sessionId, generation: link.generation, ...(link.spectator ? { spectator: true } : {}), message };
    this.rpc.emit(signalPattern(link.sessionId, 'to-instance'), signal);
    // An external instance-side peer speaks with one client: the driver.
    if (!link.spectator) this.instanceSockets.get(link.sessionId)?.socket.send(JSON.stringify(message));
  }

  private pruneTickets(): void {
    const now = this.clock.now();
    for (const [nonce, expiry] of this.usedTickets) if (expiry + TICKET_TTL_MS < now) this.usedTickets.delete(nonce);
  }
}
