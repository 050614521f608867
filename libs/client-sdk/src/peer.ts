import { StreamError } from './errors';
import type { Signalling } from './gateway-api';

export interface PeerOptions {
  signalling: Signalling;
  /** User-named channels (PROTOCOL.md §5a), opened beside `control`. */
  dataChannels: string[];
  speaker: boolean;
  /** The microphone's track to send (enable_microphone), or null. */
  microphone: MediaStreamTrack | null;
  /** How long the signalling may take before it counts as failed (the instance may still be starting). */
  timeoutMs: number;
  /** `relay`: only through the TURN servers (networks that allow nothing else). */
  iceTransportPolicy: RTCIceTransportPolicy;
}

/** Who closed a connection on purpose (see PeerEvents.failed). */
export type ClosedBy = 'replaced' | 'instance';

export interface PeerEvents {
  /** The video (or audio) track arrived with its MediaStream. */
  track(kind: 'video' | 'audio', stream: MediaStream): void;
  /** ICE connected: media and data flow from here on. */
  connected(): void;
  /**
   * The attempt failed, or the connection went after it was made. `closedBy`: the instance
   * closed it on purpose (its channels close at once), because another client took over the
   * session (`replaced`) or for any other reason (`instance`: it stops, or its node does);
   * null: the network (ICE timed out) or the attempt itself.
   */
  failed(error: StreamError, closedBy: ClosedBy | null): void;
  /** A message from the instance on the control channel. */
  control(message: { type: string; data?: unknown }): void;
  /** Bytes or text from the application on a user-named channel. */
  channel(name: string, data: string | ArrayBuffer): void;
}

/** A dropped connection (ICE `disconnected`) gets this long to come back on its own. */
const DISCONNECTED_GRACE_MS = 4000;

const b64encode = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));
const b64decode = (b64: string) => new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));

/**
 * One connection to a session's instance: the signalling exchange of PROTOCOL.md §4 over the
 * gateway's WebSocket, then an RTCPeerConnection with the `control` channel and the user's
 * channels. The socket closes once ICE connects, as the Anbox SDK's does.
 */
export class Peer {
  readonly pc: RTCPeerConnection;
  readonly control: RTCDataChannel;
  readonly channels = new Map<string, RTCDataChannel>();
  private readonly ws: WebSocket;
  private remoteSet = false;
  private readonly pendingCandidates: RTCIceCandidateInit[] = [];
  private wasConnected = false;
  private done = false;
  private lastSignallingError = '';
  /** What the instance said in `stream::closing` before it closed the connection. */
  private closingReason: string | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly options: PeerOptions,
    private readonly on: PeerEvents,
  ) {
    const iceServers = options.signalling.stun_servers.map((s) => ({ urls: s.urls, username: s.username, credential: s.password }));
    const pc = (this.pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: options.iceTransportPolicy }));
    // Channels before the offer, so that it has an application m-line (as the SDK does).
    this.control = pc.createDataChannel('control');
    this.control.onmessage = (ev) => this.onControl(ev.data);
    // The instance closed the connection on purpose; its `stream::closing` notice, if any, said why.
    this.control.onclose = () => {
      if (!this.wasConnected) return;
      if (this.closingReason === 'replaced') this.fail(new StreamError('connection-lost', 'another client took over this session'), 'replaced');
      else this.fail(new StreamError('connection-lost', `the instance closed the connection${this.closingReason ? ` (${this.closingReason})` : ''}`), 'instance');
    };
    for (const name of options.dataChannels) {
      const ch = pc.createDataChannel(name);
      ch.binaryType = 'arraybuffer';
      ch.onmessage = (ev) => this.on.channel(name, ev.data as string | ArrayBuffer);
      this.channels.set(name, ch);
    }
    pc.onicecandidate = (ev) => {
      if (ev.candidate?.candidate) {
        const c = ev.candidate;
        this.signal({ type: 'candidate', candidate: b64encode(c.candidate), sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex });
      }
    };
    pc.oniceconnectionstatechange = () => this.onIceState();
    pc.ontrack = (ev) => {
      const stream = ev.streams[0];
      if (!stream) return this.fail(new StreamError('signalling-failed', `the ${ev.track.kind} track came without a stream (the offer announces no msid)`));
      this.on.track(ev.track.kind === 'audio' ? 'audio' : 'video', stream);
    };

    const ws = (this.ws = new WebSocket(options.signalling.url));
    ws.onopen = () => this.signal({ type: 'discover' });
    ws.onmessage = (ev) => {
      this.onSignal(String(ev.data)).catch((e: Error) => this.fail(new StreamError('signalling-failed', `signalling: ${e.message}`)));
    };
    ws.onclose = (ev) => {
      if (this.wasConnected || this.done) return;
      const why = this.lastSignallingError || (ev.reason ? `${ev.code} ${ev.reason}` : `code ${ev.code}`);
      this.fail(new StreamError('signalling-failed', `the signalling connection closed before the stream connected (${why})`));
    };
    this.timer = setTimeout(() => {
      this.fail(new StreamError('signalling-failed', `no connection to the instance within ${Math.round(options.timeoutMs / 1000)} s`));
    }, options.timeoutMs);
  }

  /** Sends a control message; false when the channel is not open. */
  sendControl(message: { type: string; data?: unknown }): boolean {
    if (this.control.readyState !== 'open') return false;
    this.control.send(JSON.stringify(message));
    return true;
  }

  /** Ends this connection; no event follows. */
  close(): void {
    this.done = true;
    clearTimeout(this.timer);
    for (const ch of this.channels.values()) ch.close();
    this.control.close();
    if (this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000, 'closed');
    this.pc.close();
  }

  private fail(error: StreamError, closedBy: ClosedBy | null = null): void {
    if (this.done) return;
    this.close();
    this.on.failed(error, closedBy);
  }

  private signal(message: object): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  private async onSignal(text: string): Promise<void> {
    const msg = JSON.parse(text) as { type?: string; sdp?: string; candidate?: string; sdpMid?: string | null; sdpMLineIndex?: number | null; message?: string };
    switch (msg.type) {
      case 'resp:discover':
        this.signal({
          type: 'settings',
          api_version: 2,
          data_channels: this.options.dataChannels,
          enable_speaker: this.options.speaker,
          enable_microphone: this.options.microphone !== null,
          enable_video: true,
          enable_camera: false,
          video: { preferred_decoder_codecs: ['H264'] },
        });
        break;
      case 'offer': {
        await this.pc.setRemoteDescription({ type: 'offer', sdp: b64decode(msg.sdp ?? '') });
        this.remoteSet = true;
        // The offer's audio m-line receives too when we asked to send the microphone: answer with it.
        const audio = this.pc.getTransceivers().find((t) => t.receiver.track.kind === 'audio');
        if (audio && this.options.microphone) {
          audio.direction = this.options.speaker ? 'sendrecv' : 'sendonly';
          await audio.sender.replaceTrack(this.options.microphone);
        }
        for (const c of this.pendingCandidates.splice(0)) await this.addCandidate(c);
        const answer = await this.pc.createAnswer();
        await this.pc.setLocalDescription(answer);
        this.signal({ type: 'answer', sdp: b64encode(answer.sdp ?? '') });
        break;
      }
      case 'candidate': {
        const c = { candidate: b64decode(msg.candidate ?? ''), sdpMid: msg.sdpMid ?? null, sdpMLineIndex: msg.sdpMLineIndex ?? null };
        if (this.remoteSet) await this.addCandidate(c);
        else this.pendingCandidates.push(c);
        break;
      }
      case 'error':
        this.lastSignallingError = msg.message ?? 'error';
        break;
      default:
        break; // unknown types are ignored, as the SDK does
    }
  }

  private async addCandidate(c: RTCIceCandidateInit): Promise<void> {
    // One unusable candidate (an unknown mid, say) is not a failed connection: others may work.
    await this.pc.addIceCandidate(c).catch(() => undefined);
  }

  private onIceState(): void {
    const state = this.pc.iceConnectionState;
    if (state === 'connected' || state === 'completed') {
      clearTimeout(this.timer);
      if (!this.wasConnected) {
        this.wasConnected = true;
        if (this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000, 'connected');
        this.on.connected();
      }
    } else if (state === 'failed') {
      this.fail(
        this.wasConnected
          ? new StreamError('connection-lost', 'the connection to the instance was lost')
          : new StreamError('ice-failed', 'no network path to the instance was found (ICE failed; a TURN server may be needed)'),
      );
    } else if (state === 'disconnected' && this.wasConnected) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        if (this.pc.iceConnectionState === 'disconnected') this.fail(new StreamError('connection-lost', 'the connection to the instance dropped'));
      }, DISCONNECTED_GRACE_MS);
    } else if (state === 'closed' && this.wasConnected) {
      this.fail(new StreamError('connection-lost', 'the connection to the instance closed'));
    }
  }

  private onControl(data: unknown): void {
    if (typeof data !== 'string') return;
    try {
      const msg = JSON.parse(data) as { type?: unknown; data?: unknown };
      if (!msg || typeof msg.type !== 'string') return;
      const reason = (msg.data as { reason?: unknown } | null)?.reason;
      if (msg.type === 'stream::closing' && typeof reason === 'string') this.closingReason = reason.slice(0, 64);
      this.on.control({ type: msg.type, data: msg.data });
    } catch {
      // not JSON: not ours to act on
    }
  }
}
