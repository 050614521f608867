/**
 * A node-datachannel peer that plays the browser's part of PROTOCOL.md §4 against a
 * StreamerProcess, or anything that relays its signalling (`StreamerSignalling`, e.g. the node
 * runtime through a small adapter), with no gateway in between: it creates `control` and
 * user-named data channels before `discover`, answers the offer, trickles candidates, and
 * records every RTP and RTCP packet its tracks receive.
 *
 * node-datachannel hygiene (see streamer-peer.ts): every Track/DataChannel gets onClosed and
 * is closed explicitly; callbacks never throw; nothing native is let go before `cleanup()` (a
 * wrapper collected before it crashes the process: a clean-clone CI run died of it,
 * "Segmentation fault" in afterAll). Call `closeAllTestClients()` then `cleanup()` in afterAll.
 */
import { DataChannel, PeerConnection, Track } from 'node-datachannel';
import { parseRtpHeader, type RtpHeader } from '../../src/node/media/rtp';
import { buildNack, buildPli, isRtcp, parseRtcp, type RtcpFeedback } from '../../src/node/media/rtcp';
import type { ClientSignal, InstanceSignal } from '../../src/node/media-link/streamer.messages';

/**
 * The instance's side of the signalling as the client uses it. A StreamerProcess is one; a test
 * of the node runtime wraps `runtime.signal()` / `runtime.onStreamerEvent()` in one.
 */
export interface StreamerSignalling {
  /** `spectator`: a view-only peer beside the driver. */
  signal(generation: number, message: ClientSignal, spectator?: boolean): void;
  on(event: 'signal', listener: (generation: number, message: InstanceSignal) => void): unknown;
  off(event: 'signal', listener: (generation: number, message: InstanceSignal) => void): unknown;
  /** The instance's log, quoted when a wait times out. */
  stderrTail(): string;
}

export interface ReceivedRtp {
  header: RtpHeader;
  packet: Buffer;
  at: number;
}

/** The RTP payload of a received packet (after CSRCs and header extensions, before padding). */
export const payloadOf = (p: ReceivedRtp): Buffer => p.packet.subarray(p.header.payloadOffset, p.header.payloadEnd);

export interface TestClientOptions {
  /** User-named channels created (with `control`) before discover. */
  dataChannels?: string[];
  settings?: Partial<Extract<ClientSignal, { type: 'settings' }>>;
  /** Hold the answer this long (our ICE checks reach the instance before it). */
  answerDelayMs?: number;
  /** Send our candidates before the answer and hold the answer this long (queueing on the instance). */
  candidatesBeforeAnswerMs?: number;
  /** Keep our candidates out of the answer and trickle them after it, as a browser does. */
  trickle?: boolean;
  /** Do not send our candidates at all (and strip them from the answer): the instance must learn us from our checks. */
  noCandidates?: boolean;
  /** Rewrites the offer / each instance candidate before use (to route through a relay). */
  rewriteOffer?: (sdp: string) => string;
  rewriteCandidate?: (candidate: string) => string;
  /** Join as a view-only peer beside the driver. */
  spectator?: boolean;
}

const live = new Set<TestClientPeer>();
/** Closed clients' native objects, kept from the garbage collector for the process's life. */
const retired: Array<PeerConnection | Track | DataChannel> = [];
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

export class TestClientPeer {
  readonly pc: PeerConnection;
  readonly control: DataChannel;
  readonly channels = new Map<string, DataChannel>();
  readonly received = { video: [] as ReceivedRtp[], audio: [] as ReceivedRtp[] };
  readonly rtcp: Array<{ kind: string; fb: RtcpFeedback; at: number }> = [];
  readonly fromInstance: InstanceSignal[] = [];
  readonly channelMessages: Array<{ channel: string; data: string | Buffer }> = [];
  /** The instance's `{type, data}` notices on the control channel. */
  readonly notices: Array<{ type: string; data: Record<string, unknown> }> = [];
  readonly states: string[] = [];
  offerSdp = '';
  answerSdp = '';
  private readonly tracks = new Map<string, Track>();
  private readonly owned: Array<Track | DataChannel> = [];
  private readonly waiters = new Set<() => void>();
  private readonly onSignal: (generation: number, message: InstanceSignal) => void;
  private closed = false;

  constructor(
    readonly streamer: StreamerSignalling,
    readonly generation: number,
    readonly opts: TestClientOptions = {},
  ) {
    live.add(this);
    this.pc = new PeerConnection(`client-g${generation}`, { iceServers: [], bindAddress: '127.0.0.1', disableAutoNegotiation: true });
    this.pc.onStateChange(this.guard((s: string) => this.push(this.states, s)));
    this.pc.onTrack(this.guard((t: Track) => this.onTrack(t)));
    this.control = this.own(this.pc.createDataChannel('control'));
    this.control.onMessage(this.guard((m: string | Buffer | ArrayBuffer) => this.push(this.notices, JSON.parse(typeof m === 'string' ? m : Buffer.from(m as ArrayBuffer).toString('utf8')))));
    for (const name of opts.dataChannels ?? []) {
      const dc = this.own(this.pc.createDataChannel(name));
      dc.onMessage(this.guard((m: string | Buffer | ArrayBuffer) => this.push(this.channelMessages, { channel: name, data: typeof m === 'string' ? m : Buffer.from(m as ArrayBuffer) })));
      this.channels.set(name, dc);
    }
    this.onSignal = (generation2, message) => {
      if (generation2 !== this.generation || this.closed) return;
      this.push(this.fromInstance, message);
      if (message.type === 'candidate' && this.pc.remoteDescription()) {
        try {
          const text = opts.rewriteCandidate ? opts.rewriteCandidate(unb64(message.candidate)) : unb64(message.candidate);
          this.pc.addRemoteCandidate(text, message.sdpMid);
        } catch {
          // unusable candidate
        }
      }
    };
    streamer.on('signal', this.onSignal);
  }

  send(message: ClientSignal): void {
    this.streamer.signal(this.generation, message, this.opts.spectator === true);
  }

  /** The whole exchange up to a connected peer connection; returns timings in ms. */
  async connect(): Promise<{ discoverToConnected: number; settingsToOffer: number }> {
    const t0 = performance.now();
    this.send({ type: 'discover' });
    await this.next('resp:discover');
    const tSettings = performance.now();
    this.send({ type: 'settings', api_version: 2, data_channels: this.opts.dataChannels ?? [], enable_video: true, enable_speaker: true, ...this.opts.settings });
    const offer = (await this.next('offer')) as Extract<InstanceSignal, { type: 'offer' }>;
    const settingsToOffer = performance.now() - tSettings;
    this.offerSdp = unb64(offer.sdp);
    await this.answer(this.opts.rewriteOffer ? this.opts.rewriteOffer(this.offerSdp) : this.offerSdp);
    await this.waitFor(() => this.states.includes('connected'), 10_000, 'client connected');
    return { discoverToConnected: performance.now() - t0, settingsToOffer };
  }

  /** Applies an offer and sends the answer (and candidates) the way the options say. */
  async answer(offerSdp: string): Promise<void> {
    const candidates: Array<{ candidate: string; mid: string }> = [];
    this.pc.onLocalCandidate(this.guard((candidate: string, mid: string) => this.push(candidates, { candidate, mid })));
    this.pc.setRemoteDescription(offerSdp, 'offer');
    // Instance candidates that came before the offer was applied.
    for (const m of this.fromInstance) if (m.type === 'candidate') this.onSignal(this.generation, m);
    this.pc.setLocalDescription();
    await this.waitFor(() => this.pc.localDescription()?.type === 'answer', 3000, 'local answer');
    let sdp = this.pc.localDescription()!.sdp;
    if (this.opts.noCandidates || this.opts.trickle) sdp = sdp.replace(/^a=(candidate|end-of-candidates).*\r\n/gm, '');
    this.answerSdp = sdp;
    const sendCandidates = () => {
      for (const c of candidates.splice(0)) {
        const line = c.candidate.replace(/^a=/, '');
        this.send({ type: 'candidate', candidate: b64(line), sdpMid: c.mid, sdpMLineIndex: 0 });
      }
    };
    if (this.opts.candidatesBeforeAnswerMs !== undefined) {
      // Strip them from the SDP so that only the trickled (queued) ones can be used.
      this.answerSdp = sdp = sdp.replace(/^a=(candidate|end-of-candidates).*\r\n/gm, '');
      await this.waitFor(() => candidates.length > 0, 3000, 'local candidates');
      sendCandidates();
      await new Promise((r) => setTimeout(r, this.opts.candidatesBeforeAnswerMs));
    }
    // A browser's candidates follow its answer within a few ms: have ours ready to follow it.
    if (this.opts.trickle) await this.waitFor(() => candidates.length > 0, 3000, 'local candidates');
    if (this.opts.answerDelayMs) await new Promise((r) => setTimeout(r, this.opts.answerDelayMs));
    this.send({ type: 'answer', sdp: b64(sdp) });
    if (!this.opts.noCandidates) {
      sendCandidates();
      this.pc.onLocalCandidate(this.guard((candidate: string, mid: string) => {
        candidates.push({ candidate, mid });
        sendCandidates();
      }));
    }
  }

  /** The next instance message of `type` (already received ones count, oldest first). */
  async next(type: InstanceSignal['type'], timeoutMs = 10_000): Promise<InstanceSignal> {
    let found: InstanceSignal | undefined;
    await this.waitFor(() => Boolean((found = this.fromInstance.find((m) => m.type === type))), timeoutMs, `instance ${type}`);
    return found!;
  }

  sendControl(value: unknown): void {
    this.control.sendMessage(typeof value === 'string' ? value : JSON.stringify(value));
  }

  /** RTCP from us to the instance on the video track (a receiver's NACK / PLI). */
  sendNack(sequences: number[]): boolean {
    const t = this.tracks.get('video');
    const last = this.received.video[this.received.video.length - 1];
    return Boolean(t && last && t.sendMessageBinary(buildNack(0x5eed, last.header.ssrc, sequences)));
  }

  sendPli(): boolean {
    const t = this.tracks.get('video');
    const last = this.received.video[this.received.video.length - 1];
    return Boolean(t && last && t.sendMessageBinary(buildPli(0x5eed, last.header.ssrc)));
  }

  /** The SSRC announced for `kind` in the offer. */
  offeredSsrc(kind: 'video' | 'audio'): number | undefined {
    const section = this.offerSdp.split(/\r\nm=/).find((s) => s.startsWith(`${kind} `) || s.startsWith(`m=${kind} `));
    const m = section && /a=ssrc:(\d+) /.exec(section);
    return m ? Number(m[1]) : undefined;
  }

  waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => {
        if (!check()) return false;
        clearTimeout(timer);
        this.waiters.delete(tryIt);
        resolve();
        return true;
      };
      const tryIt = () => void done();
      const timer = setTimeout(() => {
        this.waiters.delete(tryIt);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; states ${this.states.join(',')}; from instance ${this.fromInstance.map((m) => m.type).join(',')}; video ${this.received.video.length}, audio ${this.received.audio.length}\nstreamer log:\n${this.streamer.stderrTail().slice(-2500)}`));
      }, timeoutMs);
      if (!done()) this.waiters.add(tryIt);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    live.delete(this);
    this.streamer.off('signal', this.onSignal);
    this.closeOwned();
    retired.push(this.pc);
    try {
      this.pc.close();
    } catch {
      // closed already
    }
    this.tracks.clear();
    this.channels.clear();
    this.wake();
  }

  private onTrack(t: Track): void {
    this.own(t);
    if (this.closed) return void this.closeOwned();
    const kind = t.type() === 'audio' ? 'audio' : 'video';
    this.tracks.set(kind, t);
    t.onMessage(
      this.guard((msg: Buffer) => {
        const at = performance.now();
        if (isRtcp(msg)) {
          for (const fb of parseRtcp(msg)) this.rtcp.push({ kind, fb, at });
          this.wake();
          return;
        }
        const header = parseRtpHeader(msg);
        if (header) this.push(this.received[kind], { header, packet: Buffer.from(msg), at });
      }),
    );
  }

  /** A wrapper left unclosed keeps the event loop alive (and may crash cleanup()). */
  private closeOwned(): void {
    const owned = this.owned.splice(0);
    retired.push(...owned);
    for (const x of owned) {
      try {
        x.close();
      } catch {
        // closed already
      }
    }
  }

  private push<T>(list: T[], item: T): void {
    list.push(item);
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private own<T extends Track | DataChannel>(x: T): T {
    x.onClosed(() => undefined);
    this.owned.push(x);
    return x;
  }

  private guard<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      try {
        fn(...args);
      } catch (e) {
        process.stderr.write(`test client callback failed: ${(e as Error).stack}\n`);
      }
    };
  }
}

export function closeAllTestClients(): void {
  for (const c of [...live]) c.close();
}
