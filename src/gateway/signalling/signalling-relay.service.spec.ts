/**
 * When the relay holds a client's messages and when it lets them go: held while the session's
 * instance starts, let go when its streamer says ready (the node's word, ahead of the session
 * being written active) or when the session is active; and what it adds to a browser's mDNS host
 * candidates. Fakes around the relay: no sockets, no bus.
 */
import { signalPattern, type RelayedSignal } from '@streamstack/contracts';
import { decodeBase64, encodeBase64 } from '@streamstack/protocol';
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

  const open = async (sessionId: string, remoteAddress = '::ffff:127.0.0.1'): Promise<FakeSocket> => {
    const socket = new FakeSocket();
    const context = await client.authorise({} as IncomingMessage, new URL(`ws://gateway/1.0/signaling/client?ticket=${sessionId}`));
    client.connected(socket as unknown as WebSocket, context, { socket: { remoteAddress } } as IncomingMessage);
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

  describe("a browser's mDNS host candidates", () => {
    const candidate = (line: string) => ({ type: 'candidate', candidate: encodeBase64(line), sdpMid: '0', sdpMLineIndex: 0 });
    const MDNS = 'candidate:1 1 udp 2122260223 6f1d2c3b-aaaa-4bbb-8ccc-0123456789ab.local 50123 typ host generation 0';
    const relayedCandidates = (sessionId: string) =>
      relayed.filter((s) => s.session_id === sessionId && s.message.type === 'candidate').map((s) => decodeBase64(s.message.candidate, 'candidate'));
    /** Opens a client socket and takes the session as far as the instance's offer. */
    const offered = async (sessionId: string, remoteAddress?: string, ready = true) => {
      status[sessionId] = 'created';
      if (ready) relay.instanceReady(sessionId);
      const socket = await open(sessionId, remoteAddress);
      socket.say({ type: 'discover' });
      socket.say({ type: 'settings', enable_video: true });
      relay.fromInstance({ session_id: sessionId, generation: 1, message: { type: 'offer', sdp: encodeBase64('v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n') } });
      return socket;
    };

    it('are also sent to the instance at the address the client connected from, right after each one', async () => {
      const socket = await offered('m1', '::ffff:10.1.2.3');
      socket.say(candidate(MDNS));
      socket.say(candidate('candidate:2 1 udp 1686052607 198.51.100.7 40000 typ srflx raddr 0.0.0.0 rport 0'));
      expect(relayedCandidates('m1')).toEqual([MDNS, MDNS.replace(/\S+\.local/, '10.1.2.3'), 'candidate:2 1 udp 1686052607 198.51.100.7 40000 typ srflx raddr 0.0.0.0 rport 0']);
      expect(socket.sent).toEqual([expect.objectContaining({ type: 'offer' })]); // no error for the client
    });

    it('are held with the client\'s other messages while the instance starts', async () => {
      const socket = await offered('m2', '127.0.0.1', false);
      socket.say(candidate(MDNS));
      expect(relayedCandidates('m2')).toEqual([]);
      relay.instanceReady('m2');
      expect(relayedCandidates('m2')).toEqual([MDNS, MDNS.replace(/\S+\.local/, '127.0.0.1')]);
    });

    it('go as they are when the socket has no address', async () => {
      const socket = await offered('m3', '');
      socket.say(candidate(MDNS));
      expect(relayedCandidates('m3')).toEqual([MDNS]);
    });
  });
});
