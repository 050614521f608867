/**
 * The instance peer of the signalling protocol (PROTOCOL.md §4): one per instance, in its own
 * process (`streamer.process.ts`), feeding each peer from the instance's media engine; it
 * talks to the runtime through `host.send`.
 *
 * Generations: each client join is a new signalling generation. A message of a newer
 * generation replaces the driver's peer (closed and forgotten at once: one driver at a time);
 * a message of an older generation is stale and ignored. A spectator's generation (`spectator`
 * on the IPC message) adds a view-only peer beside the driver, fed by the same encoder: its
 * input and data are ignored, and it never replaces the driver.
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

export const MAX_SPECTATORS = 8;

/** One signalling generation: its peer once it sent settings, its candidates until then. */
interface Slot {
  generation: number;
  spectator: boolean;
  peer: StreamerPeer | null;
  earlyCandidates: Array<Extract<ClientSignal, { type: 'candidate' }>>;
}

export class Streamer {
  private driver: Slot = { generation: -1, spectator: false, peer: null, earlyCandidates: [] };
  private readonly spectators = new Map<number, Slot>();
  private stopped = false;

  constructor(
    private readonly config: StreamerConfig,
    private readonly host: StreamerHost,
    private readonly engine: MediaEngine,
  ) {}

  handle(msg: StreamerInbound): void {
    if (this.stopped) return;
    switch (msg.kind) {
      case 'signal':
        return this.onSignal(msg.generation, msg.message, msg.spectator === true);
      case 'data': {
        const sent = this.driver.peer?.sendData(msg.channel, Buffer.from(msg.data, 'base64'), msg.text === true) ?? false;
        if (!sent) this.host.log('debug', `data for channel ${JSON.stringify(msg.channel)} dropped: no such open channel`);
        return;
      }
      case 'control':
        if (!(this.driver.peer?.sendControl(msg.message) ?? false)) this.host.log('debug', `control notice ${msg.message.type} dropped: no open control channel`);
        return;
      case 'config':
        this.host.log('warn', 'ignoring a config message: the streamer is configured already');
        return;
      case 'stop':
        // The process entry handles stop (it owns the exit).
        return;
    }
  }

  /** Closes every peer. */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.replaceDriver(this.driver.generation, 'the streamer is stopping');
    for (const slot of this.spectators.values()) this.closeSlot(slot, 'the streamer is stopping');
    this.spectators.clear();
  }

  // ------------------------------------------------------------------ signalling

  private slotFor(generation: number, spectator: boolean): Slot | null {
    if (spectator) {
      let slot = this.spectators.get(generation);
      if (!slot) {
        if (this.spectators.size >= MAX_SPECTATORS) {
          this.sendSignal(generation, { type: 'error', message: `at most ${MAX_SPECTATORS} spectators` });
          return null;
        }
        slot = { generation, spectator: true, peer: null, earlyCandidates: [] };
        this.spectators.set(generation, slot);
      }
      return slot;
    }
    if (generation < this.driver.generation) {
      this.host.log('debug', `ignoring a message of stale generation ${generation} (current ${this.driver.generation})`);
      return null;
    }
    // The replaced client lives on: its connection lingers for it to finish closing.
    if (generation > this.driver.generation) this.replaceDriver(generation, `replaced by generation ${generation}`, { linger: true });
    return this.driver;
  }

  private onSignal(generation: number, message: ClientSignal, spectator: boolean): void {
    const slot = this.slotFor(generation, spectator);
    if (!slot) return;
    switch (message.type) {
      case 'discover':
        this.sendSignal(generation, { type: 'resp:discover', max_api_version: STREAMER_MAX_API_VERSION, fps: this.config.fps, capabilities: [] });
        return;
      case 'settings':
        return this.onSettings(slot, message);
      case 'answer':
        if (typeof message.sdp !== 'string') return this.sendSignal(generation, { type: 'error', message: 'answer without an sdp' });
        if (!slot.peer) return this.sendSignal(generation, { type: 'error', message: 'answer before any offer' });
        slot.peer.setAnswer(message.sdp);
        return;
      case 'candidate':
        if (typeof message.candidate !== 'string') return this.sendSignal(generation, { type: 'error', message: 'candidate without a candidate string' });
        if (slot.peer) slot.peer.addRemoteCandidate(message);
        else if (slot.earlyCandidates.length < MAX_EARLY_CANDIDATES) slot.earlyCandidates.push(message);
        return;
      case 'error':
        this.host.log('warn', `g${generation}: the client reported an error: ${String(message.message).slice(0, 300)}`);
        return;
      default:
        this.sendSignal(generation, { type: 'error', message: `unexpected message type ${JSON.stringify((message as { type: unknown }).type)}` });
    }
  }

  private onSettings(slot: Slot, message: Extract<ClientSignal, { type: 'settings' }>): void {
    const { generation, spectator } = slot;
    if (slot.peer) {
      this.sendSignal(generation, { type: 'error', message: 'settings were sent already' });
      return;
    }
    const settings = settingsFromMessage(message);
    const peer = new StreamerPeer(generation, this.config, settings, {
      signal: (m) => this.sendSignal(generation, m),
      clientState: (state, reason) => this.host.send({ kind: 'client-state', generation, state, ...(reason ? { reason } : {}) }),
      keyframe: (reason) => this.engine.requestKeyframe(reason),
      wantsChanged: () => this.engine.sinksChanged(),
      audioKbps: () => this.engine.audioOnTheWireKbps,
      // A spectator watches: what it sends never reaches the application.
      input: (event) => (spectator ? this.host.log('debug', `g${generation}: spectator input ignored`) : this.host.send({ kind: 'input', event })),
      data: (channel, data, text) => {
        if (!spectator) this.host.send({ kind: 'data', channel, data: data.toString('base64'), ...(text ? { text: true } : {}) });
      },
      ended: (reason) => {
        this.engine.removeSink(peer);
        if (slot.peer === peer) slot.peer = null;
        if (spectator) this.spectators.delete(generation);
        this.host.log('info', `g${generation}: ended: ${reason}`);
      },
      log: (level, text) => this.host.log(level, text),
    });
    slot.peer = peer;
    // Its first frame is an IDR the engine forces when its video track opens.
    this.engine.addSink(peer);
    for (const c of slot.earlyCandidates.splice(0)) peer.addRemoteCandidate(c);
    peer.start().catch((e: Error) => {
      this.host.log('error', `g${generation}: could not make an offer: ${e.message}`);
      if (!peer.isClosed) this.sendSignal(generation, { type: 'error', message: `the instance could not create an offer: ${e.message}` });
      peer.close('no offer');
      this.engine.removeSink(peer);
      if (slot.peer === peer) slot.peer = null;
    });
  }

  private replaceDriver(generation: number, reason: string, options: { linger?: boolean } = {}): void {
    const old = this.driver;
    this.driver = { generation, spectator: false, peer: null, earlyCandidates: [] };
    this.closeSlot(old, reason, options);
  }

  private closeSlot(slot: Slot, reason: string, options: { linger?: boolean } = {}): void {
    const peer = slot.peer;
    slot.peer = null;
    slot.earlyCandidates = [];
    peer?.close(reason, options);
    if (peer) this.engine.removeSink(peer);
  }

  private sendSignal(generation: number, message: InstanceSignal): void {
    this.host.send({ kind: 'signal', generation, message });
  }
}
