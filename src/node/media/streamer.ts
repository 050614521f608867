/**
 * The instance peer of the signalling protocol (PROTOCOL.md §4): one per instance, in its own
 * process (`streamer.process.ts`), feeding each peer from the instance's media engine; it
 * talks to the runtime through `host.send`.
 *
 * Generations: each client join is a new signalling generation. A message of a newer
 * generation replaces the current peer (closed and forgotten at once: one driver at a time);
 * a message of an older generation is stale and ignored.
 */
import type { MediaEngine } from './media-engine';
import { settingsFromMessage, StreamerPeer } from './streamer-peer';
import {
  STREAMER_MAX_API_VERSION,
  type ClientSignal,
  type InstanceSignal,
  type StreamerConfig,
  type StreamerInbound,
  type StreamerLogLevel,
  type StreamerOutbound,
} from '../media-link/streamer.messages';

export interface StreamerHost {
  send(message: StreamerOutbound): void;
  log(level: StreamerLogLevel, message: string): void;
}

const MAX_EARLY_CANDIDATES = 100;

export class Streamer {
  private generation = -1;
  private peer: StreamerPeer | null = null;
  /** Candidates of the current generation that came before its settings (the peer does not exist yet). */
  private earlyCandidates: Array<Extract<ClientSignal, { type: 'candidate' }>> = [];
  private stopped = false;

  constructor(
    private readonly config: StreamerConfig,
    private readonly host: StreamerHost,
    private readonly engine: MediaEngine,
  ) {}

  /** The peer of the current generation, if any (tests and logs). */
  get currentPeer(): StreamerPeer | null {
    return this.peer;
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

  /** Closes the peer. */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.replacePeer(this.generation, 'the streamer is stopping');
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
      keyframe: (reason) => this.engine.requestKeyframe(reason),
      wantsChanged: () => this.engine.sinksChanged(),
      input: (event) => this.host.send({ kind: 'input', event }),
      data: (channel, data, text) => this.host.send({ kind: 'data', channel, data: data.toString('base64'), ...(text ? { text: true } : {}) }),
      ended: (reason) => {
        this.engine.removeSink(peer);
        if (this.peer === peer) this.peer = null;
        this.host.log('info', `g${generation}: ended: ${reason}`);
      },
      log: (level, text) => this.host.log(level, text),
    });
    this.peer = peer;
    // Its first frame is an IDR the engine forces when its video track opens.
    this.engine.addSink(peer);
    for (const c of this.earlyCandidates.splice(0)) peer.addRemoteCandidate(c);
    peer.start().catch((e: Error) => {
      this.host.log('error', `g${generation}: could not make an offer: ${e.message}`);
      if (!peer.isClosed) this.sendSignal(generation, { type: 'error', message: `the instance could not create an offer: ${e.message}` });
      peer.close('no offer');
      this.engine.removeSink(peer);
      if (this.peer === peer) this.peer = null;
    });
  }

  private replacePeer(generation: number, reason: string): void {
    const old = this.peer;
    this.peer = null;
    this.earlyCandidates = [];
    this.generation = generation;
    old?.close(reason);
    if (old) this.engine.removeSink(old);
  }

  private sendSignal(generation: number, message: InstanceSignal): void {
    this.host.send({ kind: 'signal', generation, message });
  }
}
