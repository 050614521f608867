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
 *
 * The driver's user-named data channels reach the application through Unix sockets in
 * `config.dataChannelDir` (channel-link.ts), one per open channel.
 */
import type { DataChannel } from 'node-datachannel';
import { ClipboardAssembler } from '../../../libs/protocol/src/clipboard';
import { ChannelLink, channelNameProblem } from './channel-link';
import type { MicrophonePlayer } from './microphone';
import type { MediaEngine } from './media-engine';
import { type ChannelSink, DEFAULT_CONNECT_TIMEOUT_MS, type PeerCloseOptions, settingsFromMessage, StreamerPeer } from './streamer-peer';
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

/** A backstop in the media process; the gateway's per-session cap (STREAMSTACK_SESSION_MAX_SPECTATORS) is lower. */
export const MAX_SPECTATORS = 16;

/** One signalling generation: its peer once it sent settings, its candidates until then. */
interface Slot {
  generation: number;
  spectator: boolean;
  peer: StreamerPeer | null;
  earlyCandidates: Array<Extract<ClientSignal, { type: 'candidate' }>>;
  /** The clipboard text its client is sending, piece by piece. */
  clipboard: ClipboardAssembler;
}

const newSlot = (generation: number, spectator: boolean): Slot => ({ generation, spectator, peer: null, earlyCandidates: [], clipboard: new ClipboardAssembler() });

export class Streamer {
  private driver: Slot = newSlot(-1, false);
  private readonly spectators = new Map<number, Slot>();
  /** The driver's open channels to the application, by name. */
  private readonly links = new Map<string, ChannelLink>();
  /** The driver's microphone into the application, from its first packet (player null: nowhere to play it). */
  private microphone: { generation: number; player: MicrophonePlayer | null } | null = null;
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
      case 'control':
        if (!(this.driver.peer?.sendControl(msg.message) ?? false)) this.host.log('debug', `control notice ${msg.message.type} dropped: no open control channel`);
        return;
      case 'source-size':
        this.engine.resizeSource(msg.width, msg.height).catch((e: Error) => this.host.log('warn', `capturing at ${msg.width}x${msg.height}: ${e.message}`));
        return;
      case 'config':
        this.host.log('warn', 'ignoring a config message: the streamer is configured already');
        return;
      case 'stop':
        // The process entry handles stop (it owns the exit).
        return;
    }
  }

  /** Closes every peer; says whether any was there (its closing notice then needs NOTICE_FLUSH_MS). */
  close(): boolean {
    if (this.stopped) return false;
    this.stopped = true;
    const hadPeers = this.driver.peer !== null || [...this.spectators.values()].some((s) => s.peer !== null);
    this.replaceDriver(this.driver.generation, 'the streamer is stopping', { notice: 'stopping' });
    for (const slot of this.spectators.values()) this.closeSlot(slot, 'the streamer is stopping', { notice: 'stopping' });
    this.spectators.clear();
    return hadPeers;
  }

  // ------------------------------------------------------------------ signalling

  private slotFor(generation: number, spectator: boolean, type: string): Slot | null {
    if (spectator) {
      let slot = this.spectators.get(generation);
      if (!slot) {
        // Only a new exchange makes a slot: a late candidate of a spectator gone makes none.
        if (type !== 'discover' && type !== 'settings') return null;
        if (this.spectators.size >= MAX_SPECTATORS) {
          this.sendSignal(generation, { type: 'error', message: `at most ${MAX_SPECTATORS} spectators` }, true);
          return null;
        }
        const created = (slot = newSlot(generation, true));
        this.spectators.set(generation, created);
        // A spectator that never gets as far as a peer (it left before its settings) frees its slot.
        setTimeout(() => {
          if (!created.peer && this.spectators.get(generation) === created) this.spectators.delete(generation);
        }, this.config.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS).unref();
      }
      return slot;
    }
    if (generation < this.driver.generation) {
      this.host.log('debug', `ignoring a message of stale generation ${generation} (current ${this.driver.generation})`);
      return null;
    }
    // The replaced client lives on: its connection lingers for it to finish closing.
    if (generation > this.driver.generation) this.replaceDriver(generation, `replaced by generation ${generation}`, { linger: true, notice: 'replaced' });
    return this.driver;
  }

  private onSignal(generation: number, message: ClientSignal, spectator: boolean): void {
    const slot = this.slotFor(generation, spectator, message.type);
    if (!slot) return;
    switch (message.type) {
      case 'discover':
        this.sendSignal(generation, { type: 'resp:discover', max_api_version: STREAMER_MAX_API_VERSION, fps: this.config.fps, capabilities: [] }, spectator);
        return;
      case 'settings':
        return this.onSettings(slot, message);
      case 'answer':
        if (typeof message.sdp !== 'string') return this.sendSignal(generation, { type: 'error', message: 'answer without an sdp' }, spectator);
        if (!slot.peer) return this.sendSignal(generation, { type: 'error', message: 'answer before any offer' }, spectator);
        slot.peer.setAnswer(message.sdp);
        return;
      case 'candidate':
        if (typeof message.candidate !== 'string') return this.sendSignal(generation, { type: 'error', message: 'candidate without a candidate string' }, spectator);
        if (slot.peer) slot.peer.addRemoteCandidate(message);
        else if (slot.earlyCandidates.length < MAX_EARLY_CANDIDATES) slot.earlyCandidates.push(message);
        return;
      case 'error':
        this.host.log('warn', `g${generation}: the client reported an error: ${String(message.message).slice(0, 300)}`);
        return;
      default:
        this.sendSignal(generation, { type: 'error', message: `unexpected message type ${JSON.stringify((message as { type: unknown }).type)}` }, spectator);
    }
  }

  private onSettings(slot: Slot, message: Extract<ClientSignal, { type: 'settings' }>): void {
    const { generation, spectator } = slot;
    if (slot.peer) {
      this.sendSignal(generation, { type: 'error', message: 'settings were sent already' }, spectator);
      return;
    }
    // A spectator's microphone would reach nothing: its offer does not receive one.
    const settings = { ...settingsFromMessage(message), ...(spectator ? { microphone: false } : {}) };
    const peer = new StreamerPeer(generation, this.config, settings, {
      signal: (m) => this.sendSignal(generation, m, spectator),
      // A spectator's comings and goings only count in its session's peers.
      clientState: (state, reason) => this.host.send({ kind: 'client-state', generation, state, ...(reason ? { reason } : {}), ...(spectator ? { spectator } : {}) }),
      keyframe: (reason) => this.engine.requestKeyframe(reason),
      firstFrame: () => this.host.send({ kind: 'first-frame', generation, ...(spectator ? { spectator } : {}) }),
      wantsChanged: () => this.engine.sinksChanged(),
      audioKbps: () => this.engine.audioOnTheWireKbps,
      // A spectator watches: what it sends never reaches the application.
      input: (event) => (spectator ? this.host.log('debug', `g${generation}: spectator input ignored`) : this.host.send({ kind: 'input', event })),
      request: (request) => {
        if (spectator) return this.host.log('debug', `g${generation}: spectator's ${request.kind} ignored`);
        if (request.kind === 'resize') return this.host.send({ kind: 'resize', width: request.width, height: request.height });
        this.onClipboardPiece(slot, request.text, request.more, request.lost === true);
      },
      // (A spectator's id may equal a driver's generation: never through the driver's microphone.)
      microphone: (rtp) => {
        if (!spectator) this.microphoneOf(generation)?.onRtp(rtp);
      },
      controlOpened: () => peer.sendControl({ type: 'stream::role', data: { role: spectator ? 'spectator' : 'driver' } }),
      channel: (name, channel) => {
        if (!spectator) return this.link(name, channel);
        this.host.log('info', `g${generation}: closing a spectator's channel ${JSON.stringify(name.slice(0, 40))}: only the driver's reach the application`);
        return null;
      },
      ended: (reason) => {
        this.engine.removeSink(peer);
        if (slot.peer === peer) slot.peer = null;
        if (spectator) this.spectators.delete(generation);
        else this.closeMicrophone(generation);
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
      if (!peer.isClosed) this.sendSignal(generation, { type: 'error', message: `the instance could not create an offer: ${e.message}` }, spectator);
      peer.close('no offer');
      this.engine.removeSink(peer);
      if (slot.peer === peer) slot.peer = null;
      if (spectator) this.spectators.delete(generation);
    });
  }

  /** The player for driver `generation`'s microphone (a new driver gets a new one), or null where it has nowhere to go. */
  private microphoneOf(generation: number): MicrophonePlayer | null {
    if (this.microphone?.generation === generation) return this.microphone.player;
    // A late packet of a replaced driver: nothing to play it into (and the driver's stays).
    if (generation !== this.driver.generation) return null;
    this.microphone?.player?.close();
    const source = this.config.source;
    let player: MicrophonePlayer | null = null;
    if (source.kind !== 'x11' || !source.pulseServer || !source.micSink) this.host.log('info', `g${generation}: the client sends a microphone this instance has no input for`);
    else {
      try {
        // Loaded on first use: node-av (its decoder) stays out of whatever imports this file alone.
        const { MicrophonePlayer: Player } = require('./microphone') as typeof import('./microphone');
        player = new Player(source.pulseServer, source.micSink, (level, message) => this.host.log(level, message));
      } catch (e) {
        this.host.log('warn', `g${generation}: no microphone: ${(e as Error).message}`);
      }
    }
    this.microphone = { generation, player };
    return player;
  }

  /** Stops driver `generation`'s microphone, if it has one. */
  private closeMicrophone(generation: number): void {
    if (this.microphone?.generation !== generation) return;
    this.microphone.player?.close();
    this.microphone = null;
  }

  /** A piece of a client's clipboard text; the whole text goes on when complete, unless it was dropped (too long, or a piece lost). */
  private onClipboardPiece(slot: Slot, text: string, more: boolean, lost: boolean): void {
    const result = slot.clipboard.add(text, more, lost);
    if (result && 'dropped' in result) this.host.log('warn', `g${slot.generation}: clipboard text ignored: ${result.dropped}`);
    else if (result) this.host.send({ kind: 'clipboard', text: result.text });
  }

  /** Joins a driver's channel to the application, replacing an earlier client's of that name. */
  private link(name: string, channel: DataChannel): ChannelSink | null {
    const problem = channelNameProblem(name);
    const dir = this.config.dataChannelDir;
    if (problem || !dir) {
      this.host.log('warn', `closing data channel: ${problem ?? 'this instance has no directory for channel sockets'}`);
      return null;
    }
    this.links.get(name)?.close();
    const link = new ChannelLink(name, dir, channel, (level, message) => this.host.log(level, message));
    this.links.set(name, link);
    return {
      fromClient: (data) => link.fromClient(data),
      drained: () => link.drained(),
      close: () => {
        link.close();
        if (this.links.get(name) === link) this.links.delete(name);
      },
    };
  }

  private replaceDriver(generation: number, reason: string, options: PeerCloseOptions = {}): void {
    const old = this.driver;
    this.closeMicrophone(old.generation);
    this.driver = newSlot(generation, false);
    this.closeSlot(old, reason, options);
  }

  private closeSlot(slot: Slot, reason: string, options: PeerCloseOptions = {}): void {
    const peer = slot.peer;
    slot.peer = null;
    slot.earlyCandidates = [];
    peer?.close(reason, options);
    if (peer) this.engine.removeSink(peer);
  }

  private sendSignal(generation: number, message: InstanceSignal, spectator = false): void {
    this.host.send({ kind: 'signal', generation, ...(spectator ? { spectator } : {}), message });
  }
}
