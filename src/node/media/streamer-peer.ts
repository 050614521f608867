/**
 * One client's WebRTC peer connection on the instance side (one signalling generation):
 * the offer with H.264 / Opus send-only tracks and an application m-line, trickled ICE, the
 * client's data channels, and the media forwarded from the encoder.
 *
 * node-datachannel rules this file follows (each learnt the hard way, see the spec):
 * - a JS exception thrown inside a node-datachannel callback aborts the process, so every
 *   callback is wrapped (`guard`);
 * - every Track and DataChannel gets an onClosed callback, is kept referenced, and is closed
 *   explicitly: a wrapper garbage-collected before `cleanup()` leaves a dangling pointer that
 *   crashes it, and an unclosed one keeps the event loop alive.
 */
import { randomBytes, randomInt } from 'node:crypto';
import {
  Audio,
  DataChannel,
  PeerConnection,
  RtcpNackResponder,
  RtcpSrReporter,
  RtpPacketizationConfig,
  Track,
  Video,
  type RtcConfig,
} from 'node-datachannel';
import { isH264KeyframeStart, parseRtpHeader } from './rtp';
import { parseControlMessage } from './control-input';
import { parseRtcp } from './rtcp';
import { PLAYOUT_DELAY_URI, RtpForwarder } from './rtp-forwarder';
import type { ClientSignal, ClientState, InputEvent, InstanceSignal, KeyframeReason, StreamerConfig, StreamerLogLevel } from '../media-link/streamer.messages';

/** Payload types we offer (the encoder's are rewritten to these). Chrome's own H.264 is 102+, anything dynamic works. */
export const OFFER_VIDEO_PAYLOAD_TYPE = 96;
export const OFFER_AUDIO_PAYLOAD_TYPE = 111;
export const H264_FMTP = 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1';
export const OPUS_FMTP = 'minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1';
/**
 * The id we offer the playout-delay header extension with (one-byte form: 1-14). Every video
 * packet then carries min = max = 0 (see rtp-forwarder.ts), so Chrome presents each frame as
 * soon as it is decoded instead of holding it to a render time from its RTP timestamp.
 */
export const OFFER_PLAYOUT_DELAY_EXTMAP_ID = 5;
/** Video held for a viewer before connect (see `held`): about 2-4 s at our bitrates. */
const MAX_HELD_VIDEO_PACKETS = 1500;
/** A held keyframe older than this when the track opens is not sent: a burst of that much stale video is not worth it. */
const MAX_HELD_VIDEO_AGE_MS = 1000;
/**
 * A negotiated (pre-agreed, never announced) data channel of our own: it makes libdatachannel
 * put an application m-line in the offer, so that the client's channels can open, without
 * the client ever seeing an extra channel. Its id has our parity (the DTLS client numbers its
 * channels even, the server odd), so it never collides with one of the client's.
 */
const hiddenChannelId = (dtlsSetup: StreamerConfig['dtlsSetup']) => (dtlsSetup === 'active' ? 1022 : 1023);
const LOCAL_DESCRIPTION_POLL_MS = 10;
const LOCAL_DESCRIPTION_TIMEOUT_MS = 3000;
const MAX_QUEUED_CANDIDATES = 100;
const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
const INVALID_CONTROL_LOG_EVERY = 100;

export interface PeerSettings {
  video: boolean;
  audio: boolean;
}

export interface PeerEvents {
  signal(message: InstanceSignal): void;
  clientState(state: ClientState): void;
  keyframe(reason: KeyframeReason): void;
  input(event: InputEvent): void;
  data(channel: string, data: Buffer, text: boolean): void;
  /** The peer ended by itself (client left, ICE failed, timeout, bad answer); it is closed already. */
  ended(reason: string): void;
  log(level: StreamerLogLevel, message: string): void;
}

interface MediaTrack {
  kind: 'video' | 'audio';
  mid: string;
  ssrc: number;
  track: Track;
  forwarder: RtpForwarder;
}

export function settingsFromMessage(message: Extract<ClientSignal, { type: 'settings' }>): PeerSettings {
  return { video: message.enable_video !== false, audio: message.enable_speaker !== false };
}

/**
 * The one-byte-header id (1-14) an answer's m-section maps `uri` to, or null: absent, out of
 * range, or with a direction that rules out our sending it (the answerer's `sendonly`, `inactive`).
 */
export function extmapId(section: string, uri: string): number | null {
  for (const m of section.matchAll(/^a=extmap:(\d+)(?:\/(\w+))? (\S+)/gm)) {
    if (m[3] !== uri || m[2] === 'inactive' || m[2] === 'sendonly') continue;
    const id = Number(m[1]);
    return id >= 1 && id <= 14 ? id : null;
  }
  return null;
}

export class StreamerPeer {
  private pc: PeerConnection | null = null;
  private readonly tracks: MediaTrack[] = [];
  private readonly channels = new Map<string, DataChannel>();
  /** Everything with native callbacks, closed explicitly on the way out. */
  private readonly owned: Array<Track | DataChannel> = [];
  private control: DataChannel | null = null;
  private mids: string[] = [];
  private offerSdp: string | null = null;
  private readonly pendingLocal: Array<{ candidate: string; mid: string }> = [];
  private readonly pendingRemote: Array<{ candidate: string; mid: string }> = [];
  private remoteSet = false;
  private connectedAt = 0;
  private closed = false;
  private connectTimer: NodeJS.Timeout | null = null;
  private readonly t0 = performance.now();
  /**
   * Video from the last keyframe on, while the video track is not open yet: the IDR asked for
   * at settings usually comes before DTLS is up. Sent once the track opens, it spares an encoder restart (and, on a
   * loaded node, hundreds of ms of waiting for it). `heldAt`: when its keyframe came; 0: none.
   */
  private held: Buffer[] = [];
  private heldTimestamp = -1;
  private videoOpen = false;
  private heldAt = 0;
  private heldOverflow = false;
  private firstVideoLogged = false;
  private invalidControl = 0;
  private readonly counters = { nack: 0, nackedPackets: 0, pli: 0, fir: 0 };
  private readonly cname = `streamstack-${randomBytes(6).toString('hex')}`;
  /**
   * One msid (MediaStream) per track. In one stream the browser would lip-sync video to the
   * audio jitter buffer and hold every frame back by that delay; for interactive streaming
   * latency matters more. The SDK reads each kind's own `event.streams[0]`.
   */
  private readonly msid = `stream-${randomBytes(6).toString('hex')}`;

  constructor(
    readonly generation: number,
    private readonly config: StreamerConfig,
    readonly settings: PeerSettings,
    private readonly events: PeerEvents,
  ) {}

  get connected(): boolean {
    return this.connectedAt > 0 && !this.closed;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Creates the peer connection and its tracks, and sends the offer. */
  async start(): Promise<void> {
    const c = this.config;
    const rtc: RtcConfig = {
      iceServers: c.iceServers,
      // We decide when the offer is made: after every track and the hidden channel exist.
      disableAutoNegotiation: true,
      ...(c.bindAddress ? { bindAddress: c.bindAddress } : {}),
      ...(c.portRange ? { portRangeBegin: c.portRange[0], portRangeEnd: c.portRange[1] } : {}),
      ...(c.enableIceUdpMux ? { enableIceUdpMux: true } : {}),
    };
    const pc = new PeerConnection(`streamer-g${this.generation}`, rtc);
    this.pc = pc;
    pc.onStateChange(this.guard('state', (state: string) => this.onState(state)));
    pc.onLocalCandidate(this.guard('candidate', (candidate: string, mid: string) => this.onLocalCandidate(candidate, mid)));
    pc.onDataChannel(this.guard('datachannel', (dc: DataChannel) => this.onDataChannel(dc)));

    const ssrcs = new Set<number>();
    const newSsrc = () => {
      let s: number;
      do s = randomInt(1, 0xffffffff);
      while (ssrcs.has(s));
      ssrcs.add(s);
      return s;
    };
    if (this.settings.video) this.addTrack('video', String(this.tracks.length), newSsrc());
    if (this.settings.audio) this.addTrack('audio', String(this.tracks.length), newSsrc());
    this.own(pc.createDataChannel('streamstack', { negotiated: true, id: hiddenChannelId(c.dtlsSetup) }));

    this.connectTimer = setTimeout(() => this.end(`not connected within ${c.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS} ms`), c.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    this.connectTimer.unref();

    pc.setLocalDescription('offer');
    const sdp = await this.localOffer(pc);
    if (this.closed) return;
    this.offerSdp = sdp;
    this.mids = [...sdp.matchAll(/^a=mid:(\S+)/gm)].map((m) => m[1]);
    // DTLS roles. With actpass (default) the client becomes the DTLS client; its ClientHello
    // often arrives before its (relayed) answer has reached us, and libdatachannel, which has
    // no DTLS transport yet, drops it: Chrome resends after ~2x the ICE RTT (>= 50 ms),
    // libdatachannel clients after OpenSSL's 1 s. With `active` we are the DTLS client and
    // speak only once we can, but libdatachannel 0.24 hands the answer to ICE before storing
    // it, so on a low-RTT path a preempted setRemoteDescription lets the server's certificate
    // be checked against no fingerprint: "unknown CA", the join fails (seen on loopback under
    // load). A slower first handshake beats a failed join, hence actpass by default.
    const offer = this.config.dtlsSetup === 'active' ? sdp.replace(/^a=setup:actpass(\r?)$/gm, 'a=setup:active$1') : sdp;
    this.events.signal({ type: 'offer', sdp: Buffer.from(offer, 'utf8').toString('base64') });
    this.log('info', `offer sent ${this.ms()} ms after settings (mids ${this.mids.join(',')}; video ssrc ${this.ssrcOf('video') ?? '-'}, audio ssrc ${this.ssrcOf('audio') ?? '-'})`);
    for (const local of this.pendingLocal.splice(0)) this.sendLocalCandidate(local.candidate, local.mid);
  }

  setAnswer(sdpBase64: string): void {
    if (!this.pc || this.closed) return;
    if (this.remoteSet) {
      this.log('warn', 'ignoring a second answer');
      return;
    }
    const sdp = Buffer.from(sdpBase64, 'base64').toString('utf8');
    if (!/^v=0\r?\n/.test(sdp) || !/\r?\nm=/.test(sdp)) return this.fail('the answer does not hold an SDP description');
    try {
      this.pc.setRemoteDescription(sdp, 'answer');
    } catch (e) {
      return this.fail(`the answer was refused: ${(e as Error).message}`);
    }
    this.remoteSet = true;
    this.adoptNegotiated(sdp);
    const queued = this.pendingRemote.splice(0);
    for (const c of queued) this.applyRemoteCandidate(c.candidate, c.mid);
    const video = this.tracks.find((t) => t.kind === 'video');
    const playout = video ? `; playout-delay extension ${video.forwarder.playoutDelayExtensionId === null ? 'not accepted' : `id ${video.forwarder.playoutDelayExtensionId}`}` : '';
    this.log('info', `answer applied ${this.ms()} ms after settings${queued.length ? `, then ${queued.length} queued candidate(s)` : ''}${playout}`);
  }

  addRemoteCandidate(message: Extract<ClientSignal, { type: 'candidate' }>): void {
    if (this.closed) return;
    let text = Buffer.from(message.candidate, 'base64').toString('utf8').trim();
    if (text.startsWith('a=')) text = text.slice(2);
    if (text === '') return; // end-of-candidates
    const mid = message.sdpMid ?? (message.sdpMLineIndex != null ? this.mids[message.sdpMLineIndex] : undefined) ?? this.mids[0] ?? '0';
    if (!this.remoteSet) {
      if (this.pendingRemote.length >= MAX_QUEUED_CANDIDATES) return this.log('warn', 'too many candidates before the answer; dropping one');
      this.pendingRemote.push({ candidate: text, mid });
      return;
    }
    this.applyRemoteCandidate(text, mid);
  }

  /** One datagram from the encoder's video port: held until the track opens (from a keyframe on), then sent. */
  forwardVideo(packet: Buffer): void {
    const t = this.tracks.find((m) => m.kind === 'video');
    if (!t || this.closed) return;
    if (!this.videoOpen) return this.hold(packet);
    this.send(t, packet);
    if (!this.firstVideoLogged && t.forwarder.stats.forwarded > 0) {
      this.firstVideoLogged = true;
      this.log('info', `first video packet (keyframe start) ${this.ms()} ms after settings, ${Math.round(performance.now() - this.connectedAt)} ms after connect`);
    }
  }

  forwardAudio(packet: Buffer): void {
    const t = this.tracks.find((m) => m.kind === 'audio');
    if (t && this.connectedAt && !this.closed) this.send(t, packet);
  }

  /** Bytes from the application for a user-named channel; false if there is no such open channel. */
  sendData(channel: string, data: Buffer, text: boolean): boolean {
    const dc = this.channels.get(channel);
    if (!dc || this.closed || !dc.isOpen()) return false;
    try {
      return text ? dc.sendMessage(data.toString('utf8')) : dc.sendMessageBinary(data);
    } catch (e) {
      this.log('warn', `data for channel ${JSON.stringify(channel)} not sent: ${(e as Error).message}`);
      return false;
    }
  }

  /** A `{type, data}` notice on the control channel. */
  sendControl(message: { type: string; data?: unknown }): boolean {
    if (!this.control || this.closed || !this.control.isOpen()) return false;
    try {
      return this.control.sendMessage(JSON.stringify({ type: message.type, data: message.data ?? {} }));
    } catch {
      return false;
    }
  }

  /** Closes everything; reports `disconnected` if the client had connected. Idempotent. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    const wasConnected = this.connectedAt > 0;
    const summary = this.tracks.map((t) => `${t.kind} ${t.forwarder.stats.forwarded} pkts`).join(', ');
    this.log(
      'info',
      `closing (${reason}); ${summary || 'no media'}; nack ${this.counters.nack} (${this.counters.nackedPackets} pkts), pli ${this.counters.pli}, fir ${this.counters.fir}`,
    );
    this.closeOwned();
    try {
      this.pc?.close();
    } catch (e) {
      this.log('warn', `closing the peer connection: ${(e as Error).message}`);
    }
    // Drop every reference so the native objects can go.
    this.pc = null;
    this.control = null;
    this.channels.clear();
    this.tracks.length = 0;
    if (wasConnected) this.events.clientState('disconnected');
  }

  // ------------------------------------------------------------------ internals

  private addTrack(kind: 'video' | 'audio', mid: string, ssrc: number): void {
    const pc = this.pc!;
    const video = kind === 'video';
    const pt = video ? OFFER_VIDEO_PAYLOAD_TYPE : OFFER_AUDIO_PAYLOAD_TYPE;
    const clockRate = video ? 90_000 : 48_000;
    let track: Track;
    if (video) {
      const media = new Video(mid, 'SendOnly');
      media.addH264Codec(pt, H264_FMTP);
      media.parseSdpLine(`a=extmap:${OFFER_PLAYOUT_DELAY_EXTMAP_ID} ${PLAYOUT_DELAY_URI}`);
      media.addSSRC(ssrc, this.cname, `${this.msid}-v`, `${this.msid}-video`);
      track = pc.addTrack(media);
    } else {
      const media = new Audio(mid, 'SendOnly');
      media.addOpusCodec(pt, OPUS_FMTP);
      media.addSSRC(ssrc, this.cname, `${this.msid}-a`, `${this.msid}-audio`);
      track = pc.addTrack(media);
    }
    this.own(track);
    // Sender reports and NACK retransmission: both see every packet we send with
    // sendMessageBinary (the outgoing chain), the SR reporter those with its SSRC.
    const reporter = new RtcpSrReporter(new RtpPacketizationConfig(ssrc, this.cname, pt, clockRate));
    reporter.addToChain(new RtcpNackResponder(this.config.nackBufferPackets ?? (video ? 512 : 128)));
    track.setMediaHandler(reporter);
    // RTCP from the receiver (after the handlers saw it): PLI/FIR -> keyframe.
    track.onMessage(this.guard('rtcp', (msg: Buffer) => this.onRtcp(kind, msg)));
    const forwarder = new RtpForwarder({
      kind,
      inputPayloadType: video ? this.config.videoPayloadType : this.config.audioPayloadType,
      outputPayloadType: pt,
      outputSsrc: ssrc,
      clockRate,
      waitForKeyframe: video,
    });
    if (video) {
      forwarder.onKeyframeNeeded = () => this.events.keyframe('resync');
      // Sent before the track is open (SRTP ready), packets are lost: the held ones wait for it.
      track.onOpen(this.guard('video open', () => {
        this.videoOpen = true;
        this.sendHeldVideo();
      }));
    }
    this.tracks.push({ kind, mid, ssrc, track, forwarder });
  }

  private send(t: MediaTrack, packet: Buffer): void {
    const out = t.forwarder.forward(packet);
    if (!out) return;
    try {
      t.track.sendMessageBinary(out);
    } catch {
      // The track closed under us (the peer is going away).
    }
  }

  private onRtcp(kind: 'video' | 'audio', msg: Buffer): void {
    for (const fb of parseRtcp(msg)) {
      if (fb.kind === 'nack') {
        this.counters.nack++;
        this.counters.nackedPackets += fb.sequences.length;
      } else if (fb.kind === 'pli' && kind === 'video') {
        this.counters.pli++;
        this.events.keyframe('pli');
      } else if (fb.kind === 'fir' && kind === 'video') {
        this.counters.fir++;
        this.events.keyframe('fir');
      }
    }
  }

  /** Before the track opens: keeps the video from the latest keyframe on (bounded in packets). */
  private hold(packet: Buffer): void {
    const h = parseRtpHeader(packet);
    // A keyframe's SPS, PPS and IDR slices each look like its start: one access unit (one
    // RTP timestamp) is one keyframe.
    const newKeyframe = h && h.timestamp !== this.heldTimestamp && isH264KeyframeStart(packet.subarray(h.payloadOffset, h.payloadEnd));
    if (newKeyframe) {
      this.held = [packet];
      this.heldAt = performance.now();
      this.heldTimestamp = h.timestamp;
      this.heldOverflow = false;
    } else if (this.held.length > 0) {
      if (this.held.length < MAX_HELD_VIDEO_PACKETS) this.held.push(packet);
      else [this.held, this.heldAt, this.heldOverflow] = [[], 0, true];
    }
  }

  /**
   * When the track opens: the held keyframe and what followed it go out at once, unless it is too old to
   * be worth a burst (or did not fit); then a new keyframe is asked for. Nothing held: the one
   * asked for at settings is still to come.
   */
  private sendHeldVideo(): void {
    const t = this.tracks.find((m) => m.kind === 'video');
    const held = this.held.splice(0);
    const age = Math.round(performance.now() - this.heldAt);
    if (t && held.length > 0 && age <= MAX_HELD_VIDEO_AGE_MS) {
      for (const packet of held) this.send(t, packet);
      this.log('info', `sent the ${held.length} video packets held since a keyframe ${age} ms before the track opened`);
    } else if (held.length > 0 || this.heldOverflow) {
      this.log('info', `the keyframe held for the track is ${this.heldOverflow ? 'too far behind' : `${age} ms old`}: asking for a new one`);
      this.events.keyframe('connected');
    }
  }

  private onState(state: string): void {
    if (this.closed) return;
    if (state === 'connected' && !this.connectedAt) {
      this.connectedAt = performance.now();
      if (this.connectTimer) clearTimeout(this.connectTimer);
      const pair = this.pc?.getSelectedCandidatePair();
      const via = pair ? ` via ${pair.local.type}/${pair.local.transportType} ${pair.local.address}:${pair.local.port} <-> ${pair.remote.type} ${pair.remote.address}:${pair.remote.port}` : '';
      this.log('info', `connected ${this.ms()} ms after settings${via}`);
      this.events.clientState('connected');
    } else if (state === 'disconnected' || state === 'failed' || state === 'closed') {
      this.end(`peer connection ${state}`);
    }
  }

  private onLocalCandidate(candidate: string, mid: string): void {
    if (this.closed) return;
    if (this.offerSdp === null) {
      this.pendingLocal.push({ candidate, mid });
      return;
    }
    this.sendLocalCandidate(candidate, mid);
  }

  private sendLocalCandidate(candidate: string, mid: string): void {
    const line = candidate.startsWith('a=') ? candidate.slice(2) : candidate;
    // Already in the offer (gathered before it was written): no need to trickle it.
    if (this.offerSdp?.includes(`a=${line}\r\n`)) return;
    const index = Math.max(0, this.mids.indexOf(mid));
    this.events.signal({ type: 'candidate', candidate: Buffer.from(line, 'utf8').toString('base64'), sdpMid: mid, sdpMLineIndex: index });
  }

  private applyRemoteCandidate(candidate: string, mid: string): void {
    try {
      this.pc?.addRemoteCandidate(candidate, mid);
    } catch (e) {
      // e.g. a browser's mDNS (.local) host candidate we cannot resolve: harmless.
      this.log('debug', `remote candidate not used (${(e as Error).message}): ${candidate}`);
    }
  }

  private onDataChannel(dc: DataChannel): void {
    this.own(dc);
    if (this.closed) {
      // Arrived after we closed: nobody else would ever close (and free) it.
      this.closeOwned();
      return;
    }
    const label = dc.getLabel();
    if (label === 'control') {
      this.control = dc;
      dc.onMessage(this.guard('control', (msg: string | Buffer | ArrayBuffer) => this.onControl(msg)));
    } else {
      this.channels.set(label, dc);
      dc.onMessage(
        this.guard('data', (msg: string | Buffer | ArrayBuffer) => {
          if (this.closed) return;
          const text = typeof msg === 'string';
          this.events.data(label, text ? Buffer.from(msg, 'utf8') : Buffer.from(msg as ArrayBuffer), text);
        }),
      );
    }
    this.log('info', `client data channel ${JSON.stringify(label)} open`);
  }

  private onControl(msg: string | Buffer | ArrayBuffer): void {
    if (this.closed) return;
    const parsed = parseControlMessage(msg);
    if (parsed.kind === 'input') this.events.input(parsed.event);
    else if (parsed.kind === 'disconnect') this.end('the client sent stream::disconnect');
    else if (this.invalidControl++ % INVALID_CONTROL_LOG_EVERY === 0) {
      this.log('warn', `ignored control message (${this.invalidControl} so far): ${parsed.reason}`);
    }
  }

  private adoptNegotiated(answer: string): void {
    for (const section of answer.split(/\r?\nm=/).slice(1)) {
      const mid = /\r?\na=mid:(\S+)/.exec(section)?.[1];
      const t = this.tracks.find((x) => x.mid === mid);
      if (!t) continue;
      // The answerer must keep our payload types; should one differ anyway, send what it chose.
      const codec = t.kind === 'video' ? 'H264/90000' : 'opus/48000';
      const pt = new RegExp(`a=rtpmap:(\\d+) ${codec}`, 'i').exec(section)?.[1];
      if (pt !== undefined) t.forwarder.outputPayloadType = Number(pt);
      // Header extensions go out only as the answer accepted them, with the id it gives.
      if (t.kind === 'video') t.forwarder.playoutDelayExtensionId = extmapId(section, PLAYOUT_DELAY_URI);
    }
  }

  /** A local description we can send, from the callback or, should it not fire, by polling. */
  private localOffer(pc: PeerConnection): Promise<string> {
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (sdp: string | null, err?: Error) => {
        if (done) return;
        done = true;
        clearInterval(poll);
        clearTimeout(timeout);
        if (sdp) resolve(sdp);
        else reject(err);
      };
      pc.onLocalDescription(this.guard('description', (sdp: string, type: string) => type === 'offer' && finish(sdp)));
      const check = () => {
        if (this.closed) return finish(null, new Error('closed before the offer was made'));
        try {
          const d = pc.localDescription();
          if (d && d.type === 'offer' && d.sdp) finish(d.sdp);
        } catch {
          // not yet
        }
      };
      const poll = setInterval(check, LOCAL_DESCRIPTION_POLL_MS);
      const timeout = setTimeout(() => finish(null, new Error(`no local description within ${LOCAL_DESCRIPTION_TIMEOUT_MS} ms`)), LOCAL_DESCRIPTION_TIMEOUT_MS);
      check();
    });
  }

  private fail(message: string): void {
    this.events.signal({ type: 'error', message });
    this.end(message);
  }

  private end(reason: string): void {
    if (this.closed) return;
    this.close(reason);
    this.events.ended(reason);
  }

  private closeOwned(): void {
    for (const x of this.owned.splice(0)) {
      try {
        x.close();
      } catch {
        // already closed by the peer connection
      }
    }
  }

  private own<T extends Track | DataChannel>(x: T): T {
    x.onClosed(() => undefined);
    this.owned.push(x);
    return x;
  }

  private ssrcOf(kind: 'video' | 'audio'): number | undefined {
    return this.tracks.find((t) => t.kind === kind)?.ssrc;
  }

  private ms(): number {
    return Math.round(performance.now() - this.t0);
  }

  private log(level: StreamerLogLevel, message: string): void {
    this.events.log(level, `g${this.generation}: ${message}`);
  }

  /** A throw inside a native callback would abort the process: log it instead. */
  private guard<A extends unknown[]>(what: string, fn: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      try {
        fn(...args);
      } catch (e) {
        this.log('error', `${what} callback failed: ${(e as Error).stack ?? e}`);
      }
    };
  }
}
