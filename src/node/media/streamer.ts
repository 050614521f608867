/**
 * The instance peer of the signalling protocol (PROTOCOL.md §4) and the media path from the
 * encoder's RTP ports to the peer's tracks. One per instance, in its own process
 * (`streamer.process.ts`); it talks to the runtime through `host.send`.
 *
 * Generations: each client join is a new signalling generation. A message of a newer
 * generation replaces the current peer (closed and forgotten at once: one viewer at a time);
 * a message of an older generation is stale and ignored.
 */
import * as dgram from 'node:dgram';
import { settingsFromMessage, StreamerPeer } from './streamer-peer';
import {
  STREAMER_MAX_API_VERSION,
  type ClientSignal,
  type InstanceSignal,
  type KeyframeReason,
  type StreamerConfig,
  type StreamerInbound,
  type StreamerLogLevel,
  type StreamerOutbound,
} from '../media-link/streamer.messages';

export interface StreamerHost {
  send(message: StreamerOutbound): void;
  log(level: StreamerLogLevel, message: string): void;
}

/** Receiver-driven keyframe requests (PLI/FIR/resync) restart the encoder at most this often. */
export const KEYFRAME_MIN_INTERVAL_MS = 1000;
/** An IDR burst must fit: the kernel caps this at net.core.rmem_max (x2). */
const RECV_BUFFER_BYTES = 4 * 1024 * 1024;
const MAX_EARLY_CANDIDATES = 100;
const RTP_HOST = '127.0.0.1';

export class Streamer {
  private videoSocket: dgram.Socket | null = null;
  private audioSocket: dgram.Socket | null = null;
  private generation = -1;
  private peer: StreamerPeer | null = null;
  /** Candidates of the current generation that came before its settings (the peer does not exist yet). */
  private earlyCandidates: Array<Extract<ClientSignal, { type: 'candidate' }>> = [];
  private lastKeyframeRequest = -Infinity;
  private readonly received = { video: 0, audio: 0 };
  private stopped = false;

  constructor(
    private readonly config: StreamerConfig,
    private readonly host: StreamerHost,
  ) {}

  /** The peer of the current generation, if any (tests and logs). */
  get currentPeer(): StreamerPeer | null {
    return this.peer;
  }

  /** Binds both RTP ports on loopback; rejects (EADDRINUSE, ...) without leaving one bound. */
  async bind(): Promise<void> {
    try {
      this.videoSocket = await this.bindPort(this.config.videoPort, (packet) => {
        if (this.received.video++ === 0) this.host.log('info', `first video datagram on port ${this.config.videoPort}`);
        this.peer?.forwardVideo(packet);
      });
      this.audioSocket = await this.bindPort(this.config.audioPort, (packet) => {
        if (this.received.audio++ === 0) this.host.log('info', `first audio datagram on port ${this.config.audioPort}`);
        this.peer?.forwardAudio(packet);
      });
    } catch (e) {
      this.closeSockets();
      throw e;
    }
  }

  handle(msg: StreamerInbound): void {
    if (this.stopped) return;
    switch (msg.kind) {
      case 'signal':
        return this.onSignal(msg.generation, msg.message);
      case 'data': {
        const sent = this.peer?.sendData(msg.channel, Buffer.from(msg.data, 'base64'), msg.text === true) ?? false;
        if (!sent) this.host.log('debug', `data for channel ${JSON.stringify(msg.channel)} dropped: no such open channel`);
        return;
      }
      case 'control':
        if (!(this.peer?.sendControl(msg.message) ?? false)) this.host.log('debug', `control notice ${msg.message.type} dropped: no open control channel`);
        return;
      case 'config':
        this.host.log('warn', 'ignoring a config message: the streamer is configured already');
        return;
      case 'stop':
        // The process entry handles stop (it owns the exit).
        return;
    }
  }

  /** Closes the peer and both sockets. */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.replacePeer(this.generation, 'the streamer is stopping');
    this.closeSockets();
  }

  // ------------------------------------------------------------------ signalling

  private onSignal(generation: number, message: ClientSignal): void {
    if (generation < this.generation) {
      this.host.log('debug', `ignoring ${message.type} of stale generation ${generation} (current ${this.generation})`);
      return;
    }
    if (generation > this.generation) {
      this.replacePeer(generation, `replaced by generation ${generation}`);
    }
    switch (message.type) {
      case 'discover':
        this.sendSignal(generation, { type: 'resp:discover', max_api_version: STREAMER_MAX_API_VERSION, fps: this.config.fps, capabilities: [] });
        return;
      case 'settings':
        return this.onSettings(generation, message);
      case 'answer':
        if (typeof message.sdp !== 'string') return this.sendSignal(generation, { type: 'error', message: 'answer without an sdp' });
        if (!this.peer) return this.sendSignal(generation, { type: 'error', message: 'answer before any offer' });
        this.peer.setAnswer(message.sdp);
        return;
      case 'candidate':
        if (typeof message.candidate !== 'string') return this.sendSignal(generation, { type: 'error', message: 'candidate without a candidate string' });
        if (this.peer) this.peer.addRemoteCandidate(message);
        else if (this.earlyCandidates.length < MAX_EARLY_CANDIDATES) this.earlyCandidates.push(message);
        return;
      case 'error':
        this.host.log('warn', `g${generation}: the client reported an error: ${String(message.message).slice(0, 300)}`);
        return;
      default:
        this.sendSignal(generation, { type: 'error', message: `unexpected message type ${JSON.stringify((message as { type: unknown }).type)}` });
    }
  }

  private onSettings(generation: number, message: Extract<ClientSignal, { type: 'settings' }>): void {
    if (this.peer) {
      this.sendSignal(generation, { type: 'error', message: 'settings were sent already' });
      return;
    }
    const settings = settingsFromMessage(message);
    const peer = new StreamerPeer(generation, this.config, settings, {
      signal: (m) => this.sendSignal(generation, m),
      clientState: (state) => this.host.send({ kind: 'client-state', generation, state }),
      keyframe: (reason) => {
        if (this.peer === peer) this.requestKeyframe(reason);
      },
      input: (event) => this.host.send({ kind: 'input', event }),
      data: (channel, data, text) => this.host.send({ kind: 'data', channel, data: data.toString('base64'), ...(text ? { text: true } : {}) }),
      ended: (reason) => {
        if (this.peer === peer) this.peer = null;
        this.host.log('info', `g${generation}: ended: ${reason}`);
      },
      log: (level, text) => this.host.log(level, text),
    });
    this.peer = peer;
    // The encoder restarts while ICE and DTLS run; the peer holds its first frame (an IDR)
    // until it connects, so that it is the first thing this viewer gets.
    if (settings.video) this.requestKeyframe('settings');
    for (const c of this.earlyCandidates.splice(0)) peer.addRemoteCandidate(c);
    peer.start().catch((e: Error) => {
      this.host.log('error', `g${generation}: could not make an offer: ${e.message}`);
      if (!peer.isClosed) this.sendSignal(generation, { type: 'error', message: `the instance could not create an offer: ${e.message}` });
      peer.close('no offer');
      if (this.peer === peer) this.peer = null;
    });
  }

  private replacePeer(generation: number, reason: string): void {
    const old = this.peer;
    this.peer = null;
    this.earlyCandidates = [];
    this.generation = generation;
    old?.close(reason);
  }

  private requestKeyframe(reason: KeyframeReason): void {
    const now = performance.now();
    // A new viewer always gets its keyframe; what receivers ask for is rate-limited.
    const always = reason === 'settings' || reason === 'connected';
    if (!always && now - this.lastKeyframeRequest < KEYFRAME_MIN_INTERVAL_MS) return;
    this.lastKeyframeRequest = now;
    this.host.log('info', `keyframe requested (${reason})`);
    this.host.send({ kind: 'keyframe', reason });
  }

  private sendSignal(generation: number, message: InstanceSignal): void {
    this.host.send({ kind: 'signal', generation, message });
  }

  // ------------------------------------------------------------------ sockets

  private bindPort(port: number, onPacket: (packet: Buffer) => void): Promise<dgram.Socket> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: RECV_BUFFER_BYTES });
      const onBindError = (e: Error) => {
        socket.close();
        reject(new Error(`cannot bind UDP ${RTP_HOST}:${port}: ${e.message}`));
      };
      socket.once('error', onBindError);
      socket.on('message', (packet) => {
        try {
          onPacket(packet);
        } catch (e) {
          this.host.log('error', `forwarding a packet failed: ${(e as Error).stack ?? e}`);
        }
      });
      socket.bind(port, RTP_HOST, () => {
        socket.off('error', onBindError);
        socket.on('error', (e) => this.host.log('warn', `UDP ${port}: ${e.message}`));
        resolve(socket);
      });
    });
  }

  private closeSockets(): void {
    for (const s of [this.videoSocket, this.audioSocket]) {
      try {
        s?.close();
      } catch {
        // already closed
      }
    }
    this.videoSocket = this.audioSocket = null;
  }
}
