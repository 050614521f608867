/**
 * When the relay holds a client's messages and when it lets them go: held while the session's
 * instance starts, let go when its streamer says ready (the node's word, ahead of the session
 * being written active) or when the session is active. Fakes around the relay: no sockets, no bus.
 */
import { signalPattern, type RelayedSignal } from '@streamstack/contracts';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { Clock } from '../../common/clock';
import type { UpgradeRouter } from '../../common/ws/upgrade-router';
import type { SessionsService } from '../sessions/sessions.service';
import { SignallingRelay } from './signalling-relay.service';
import { SignallingHandler } from './signalling.handler';
import type { Ticket, TicketService } from './tickets';

type Route = { path: string; authorise(req: IncomingMessage, url: URL): Promise<unknown>; connected(socket: WebSocket, context: unknown, req: IncomingMessage): void };

class FakeSocket extends EventEmitter {
  readonly sent: unknown[] = [];
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    this.emit('close');
  }
  /** What a client sends. */
  say(message: unknown): void {
    this.emit('message', Buffer.from(JSON.stringify(message)), false);
  }
}

describe('SignallingRelay: holding a starting session\'s client messages', () => {
  let relay: SignallingRelay;
  let client: Route;
  let status: Record<string, string>;
  let relayed: RelayedSignal[];
  let signals: EventEmitter;
  let nonce = 0;

  beforeEach(() => {
    const routes: Route[] = [];
    status = {};
    relayed = [];
    signals = new EventEmitter();
    const router = { add: (r: Route) => routes.push(r) } as unknown as UpgradeRouter;
    // The url's ticket is the session id: every ticket holds, each with its own nonce.
    const tickets = { verify: (token: string): Ticket => ({ s: token, g: 1, r: 'client', e: Date.now() + 60_000, n: `n${++nonce}` }) } as unknown as TicketService;
    const sessions = {
      signals,
      forSignalling: async (id: string) => (status[id] ? { id, status: status[id], clientGeneration: 1 } : null),
      hasRoomForSpectator: () => true,
      onClientSocketClosed: async () => undefined,
    } as unknown as SessionsService;
    const rpc = {
      emit: (pattern: string, signal: RelayedSignal) => {
        if (pattern === signalPattern(signal.session_id, 'to-instance')) relayed.push(signal);
      },
    };
    relay = new SignallingRelay(router, tickets, sessions, rpc as never, { now: () => Date.now() } as Clock);
    relay.onModuleInit();
    client = routes.find((r) => r.path === '/1.0/signaling/client')!;
  });

  const open = async (sessionId: string): Promise<FakeSocket> => {
    const socket = new FakeSocket();
    const context = await client.authorise({} as IncomingMessage, new URL(`ws://gateway/1.0/signaling/client?ticket=${sessionId}`));
    client.connected(socket as unknown as WebSocket, context, {} as IncomingMessage);
    return socket;
  };
  const relayedTypes = (sessionId: string) => relayed.filter((s) => s.session_id === sessionId).map((s) => s.message.type);

  it('holds what a client sends while its session starts, and lets it go when the streamer says ready', async () => {
    status.s1 = 'created';
    const socket = await open('s1');
    socket.say({ type: 'discover' });
    expect(relayedTypes('s1')).toEqual([]);
    relay.instanceReady('s1');
    expect(relayedTypes('s1')).toEqual(['discover']);
    // From now on its messages go straight through, though the session is not written active yet.
    socket.say({ type: 'settings', enable_video: true });
    expect(relayedTypes('s1')).toEqual(['discover', 'settings']);
  });

  it('does not hold a socket opened after the streamer said ready, nor one opened once the session is active', async () => {
    status.s2 = 'created';
    relay.instanceReady('s2');
    const early = await open('s2');
    early.say({ type: 'discover' });
    expect(relayedTypes('s2')).toEqual(['discover']);

    status.s3 = 'active';
    const late = await open('s3');
    late.say({ type: 'discover' });
    expect(relayedTypes('s3')).toEqual(['discover']);
  });

  it('lets held messages go when the session becomes active (a streamer outside the node runtime says no ready)', async () => {
    status.s4 = 'created';
    const socket = await open('s4');
    socket.say({ type: 'discover' });
    signals.emit('active', 's4');
    expect(relayedTypes('s4')).toEqual(['discover']);
  });

  it('drops a ready notice off the bus without a session id, holding on', async () => {
    status.s7 = 'created';
    const socket = await open('s7');
    socket.say({ type: 'discover' });
    const handler = new SignallingHandler(relay);
    for (const bad of [{}, { session_id: 7 }, null]) handler.ready(bad as never);
    expect(relayedTypes('s7')).toEqual([]);
    handler.ready({ session_id: 's7' });
    expect(relayedTypes('s7')).toEqual(['discover']);
  });

  it("keeps holding another session's messages, and forgets a ready session once it ends", async () => {
    status.s5 = 'created';
    status.s6 = 'created';
    const other = await open('s6');
    other.say({ type: 'discover' });
    relay.instanceReady('s5');
    expect(relayedTypes('s6')).toEqual([]);
    signals.emit('ended', 's5');
    const after = await open('s5');
    after.say({ type: 'discover' });
    expect(relayedTypes('s5')).toEqual([]);
  });
});
