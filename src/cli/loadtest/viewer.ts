import { DataChannel, PeerConnection, Track, type IceServer } from 'node-datachannel';
import WebSocket from 'ws';
import { isRtcp } from '../../node/media/rtcp';
import { parseRtpHeader } from '../../node/media/rtp';
import type { ApiClient } from '../remote/api-client';
import { ReceiveStats } from './receive-stats';

/** What `POST /1.0/sessions` answers that a viewer needs (PROTOCOL.md §3). */
interface NewSession {
  id: string;
  url: string;
  stun_servers: Array<{ urls: string[]; username: string; password: string }>;
}

export type ViewerState = 'waiting' | 'creating' | 'signalling' | 'connecting' | 'streaming' | 'failed' | 'done';

export interface ViewerResult {
  viewer: number;
  session: string | null;
  /** `POST /1.0/sessions` → the first keyframe complete, ms. */
  ttff_ms: number | null;
  /** Frames a second from one second after the first keyframe to the end. */
  fps: number | null;
  video_kbps: number | null;
  audio_kbps: number | null;
  loss_percent: number | null;
  jitter_ms: number | null;
  error: string | null;
}

/** Nothing from the stack within this long is a failure. */
const CONNECT_TIMEOUT_MS = 30_000;
/** Frames in the first second after the first keyframe are not counted (the encoder's rate settles). */
const WARMUP_MS = 1000;

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/**
 * One headless viewer, as the Anbox SDK connects (PROTOCOL.md §3-§4): a session created with
 * the account's token, its signalling socket, a node-datachannel peer connection that receives
 * the H.264 and Opus tracks and counts what arrives (no decoding: frames from RTP marker bits,
 * keyframes from the payload's NAL types).
 *
 * node-datachannel rules (see streamer-peer.ts): every callback is guarded (a throw inside one
 * aborts the process) and every Track/DataChannel is kept and closed explicitly.
 */
export class Viewer {
  state: ViewerState = 'waiting';
  readonly video = new ReceiveStats(90_000, true);
  readonly audio = new ReceiveStats(48_000, false);
  private session: NewSession | null = null;
  private startedAt = 0;
  private error: string | null = null;
  private ws: WebSocket | null = null;
  private pc: PeerConnection | null = null;
  private readonly owned: Array<Track | DataChannel> = [];
  private readonly pendingCandidates: Array<{ candidate: string; mid: string | null }> = [];
  private warm: { at: number; frames: number } | null = null;
  private ended: { at: number; frames: number } | null = null;
  private settle: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private connectTimer?: NodeJS.Timeout;

  constructor(
    readonly index: number,
    private readonly api: ApiClient,
    private readonly request: { app: string; screen?: { width: number; height: number; fps?: number } },
  ) {}

  /** Creates the session and connects; resolves at the first keyframe, rejects with why it could not. */
  async start(): Promise<void> {
    this.startedAt = performance.now();
    try {
      this.state = 'creating';
      this.session = await this.api.request<NewSession>('POST', '/1.0/sessions', { app: this.request.app, ...(this.request.screen ? { screen: this.request.screen } : {}) });
      this.state = 'signalling';
      await new Promise<void>((resolve, reject) => {
        this.settle = { resolve, reject };
        this.connectTimer = setTimeout(() => this.fail(`no first frame within ${CONNECT_TIMEOUT_MS / 1000} s (${this.state})`), CONNECT_TIMEOUT_MS);
        this.connectTimer.unref();
        this.openSignalling(this.session!);
      });
    } catch (e) {
      this.fail((e as Error).message);
      throw e;
    }
  }

  /** Frames a second from the warm-up on (null before it). */
  fpsNow(now = performance.now()): number | null {
    if (!this.warm || now - this.warm.at < 500) return null;
    return ((this.video.frames - this.warm.frames) * 1000) / (now - this.warm.at);
  }

  /** Ends the stream (closing its session) and says what it saw. */
  async stop(): Promise<ViewerResult> {
    if (this.state === 'streaming') this.ended = { at: performance.now(), frames: this.video.frames };
    const elapsedS = this.ended && this.warm ? (this.ended.at - this.warm.at) / 1000 : 0;
    if (this.state !== 'failed') this.state = 'done'; // before closing: what closing reports is not a failure
    this.closeConnection();
    if (this.session) await this.api.request('DELETE', `/1.0/sessions/${this.session.id}`).catch(() => undefined);
    const measured = elapsedS > 0.5;
    const round = (v: number, digits = 1) => Number(v.toFixed(digits));
    return {
      viewer: this.index,
      session: this.session?.id ?? null,
      ttff_ms: this.video.firstKeyframeAt === null ? null : Math.round(this.video.firstKeyframeAt - this.startedAt),
      fps: measured ? round((this.ended!.frames - this.warm!.frames) / elapsedS) : null,
      video_kbps: measured ? Math.round((this.video.bytes * 8) / 1000 / ((this.ended!.at - this.startedAt) / 1000)) : null,
      audio_kbps: measured ? Math.round((this.audio.bytes * 8) / 1000 / ((this.ended!.at - this.startedAt) / 1000)) : null,
      loss_percent: this.video.packets > 0 ? round(this.video.lossFraction * 100, 2) : null,
      jitter_ms: this.video.packets > 0 ? round(this.video.jitterMs) : null,
      error: this.error,
    };
  }

  private openSignalling(session: NewSession): void {
    const ws = (this.ws = new WebSocket(session.url));
    ws.on('open', () => {
      this.createPeer(session);
      this.send({ type: 'discover' });
    });
    ws.on('message', (data) => this.guard(() => this.onSignal(JSON.parse(data.toString()) as Record<string, unknown>)));
    ws.on('error', (e) => this.fail(`signalling: ${e.message}`));
    ws.on('close', (code, reason) => {
      if (this.state !== 'streaming' && this.state !== 'done') this.fail(`signalling closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`);
    });
  }

  private onSignal(msg: Record<string, unknown>): void {
    const pc = this.pc;
    if (!pc) return;
    switch (msg.type) {
      case 'resp:discover':
        this.send({ type: 'settings', api_version: 2, data_channels: [], enable_video: true, enable_speaker: true });
        return;
      case 'offer': {
        this.state = 'connecting';
        pc.setRemoteDescription(unb64(String(msg.sdp)), 'offer');
        for (const c of this.pendingCandidates.splice(0)) this.addCandidate(c.candidate, c.mid);
        pc.setLocalDescription(); // the answer goes out from onLocalDescription
        return;
      }
      case 'candidate': {
        const candidate = unb64(String(msg.candidate));
        const mid = typeof msg.sdpMid === 'string' ? msg.sdpMid : null;
        if (pc.remoteDescription()) this.addCandidate(candidate, mid);
        else this.pendingCandidates.push({ candidate, mid });
        return;
      }
      case 'error':
        return this.fail(`the stack said: ${String(msg.message)}`);
    }
  }

  private createPeer(session: NewSession): void {
    const pc = (this.pc = new PeerConnection(`viewer-${this.index}`, { iceServers: iceServersOf(session), disableAutoNegotiation: true }));
    pc.onLocalDescription((sdp, type) => this.guard(() => {
      if (type === 'answer') this.send({ type: 'answer', sdp: b64(sdp) });
    }));
    pc.onLocalCandidate((candidate, mid) => this.guard(() => this.send({ type: 'candidate', candidate: b64(candidate.replace(/^a=/, '')), sdpMid: mid, sdpMLineIndex: 0 })));
    pc.onStateChange((s) => this.guard(() => {
      if (s === 'failed' || s === 'closed') this.fail(`peer connection ${s}`);
    }));
    pc.onTrack((track) => this.guard(() => this.onTrack(track)));
    // As the SDK does: the control channel exists before discover.
    this.own(pc.createDataChannel('control'));
  }

  private onTrack(track: Track): void {
    this.own(track);
    const stats = track.type() === 'audio' ? this.audio : this.video;
    track.onMessage((msg) => this.guard(() => {
      if (isRtcp(msg)) return;
      const header = parseRtpHeader(msg);
      if (!header) return;
      const at = performance.now();
      const hadFrame = this.video.firstKeyframeAt !== null;
      stats.onPacket(header, msg.subarray(header.payloadOffset, header.payloadEnd), at);
      if (!hadFrame && this.video.firstKeyframeAt !== null) {
        clearTimeout(this.connectTimer);
        this.state = 'streaming';
        this.settle?.resolve();
        setTimeout(() => (this.warm = { at: performance.now(), frames: this.video.frames }), WARMUP_MS).unref();
      }
    }));
  }

  private addCandidate(candidate: string, mid: string | null): void {
    if (candidate === '') return; // end of candidates
    try {
      this.pc?.addRemoteCandidate(candidate, mid ?? '0');
    } catch {
      // one the peer connection cannot use
    }
  }

  private send(message: Record<string, unknown>): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  private fail(why: string): void {
    if (this.state === 'failed' || this.state === 'done') return;
    if (this.state === 'streaming') {
      // It streamed: what it saw until now still counts.
      this.ended = { at: performance.now(), frames: this.video.frames };
    }
    clearTimeout(this.connectTimer);
    this.state = 'failed';
    this.error = why;
    this.settle?.reject(new Error(why));
    this.closeConnection();
  }

  private closeConnection(): void {
    this.ws?.close(1000);
    // Closed, not dropped: a wrapper collected before node-datachannel's cleanup() crashes the process.
    for (const x of this.owned) {
      try {
        x.close();
      } catch {
        // closed with its peer connection
      }
    }
    try {
      this.pc?.close();
    } catch {
      // closed already
    }
  }

  private own<T extends Track | DataChannel>(x: T): T {
    x.onClosed(() => undefined);
    this.owned.push(x);
    return x;
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(`viewer: ${(e as Error).message}`);
    }
  }
}

/** The session's STUN/TURN servers as node-datachannel takes them (a TURN username holds a ':'). */
function iceServersOf(session: NewSession): Array<string | IceServer> {
  const out: Array<string | IceServer> = [];
  for (const server of session.stun_servers ?? []) {
    for (const url of server.urls) {
      const m = /^(stun|turns?):([^:?]+)(?::(\d+))?(?:\?transport=(udp|tcp))?$/.exec(url);
      if (!m) continue;
      if (m[1] === 'stun') out.push(url);
      else {
        out.push({
          hostname: m[2],
          port: Number(m[3] ?? (m[1] === 'turns' ? 5349 : 3478)),
          username: server.username,
          password: server.password,
          relayType: m[1] === 'turns' ? 'TurnTls' : m[4] === 'tcp' ? 'TurnTcp' : 'TurnUdp',
        });
      }
    }
  }
  return out;
}
