/**
 * One client's WebRTC peer connection on the instance side (one signalling generation):
 * the offer with an H.264 send-only track, an Opus one (send-only, or receiving too: the
 * client's microphone) and an application m-line, trickled ICE, the client's data channels
 * (joined to the application: channel-link.ts), and the media engine's encoded stream (it is a `MediaSink`):
 * libdatachannel packetizes each access unit (H264RtpPacketizer, one RTP timestamp per
 * frame), writes sender reports and answers NACKs; this peer's rate controller reads the
 * receiver's REMB and reports.
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
  H264RtpPacketizer,
  PeerConnection,
  RtcpNackResponder,
  RtcpSrReporter,
  RtpPacketizationConfig,
  RtpPacketizer,
  Track,
  Video,
  type RtcConfig,
} from 'node-datachannel';
import type { EncodedVideo } from './av/video-encoder';
import { CandidateExchange, type Candidate } from './candidate-exchange';
import { parseControlMessage, type ControlMessage } from './control-input';
import type { MediaSink } from './media-engine';
import { RateController, rateLimits, type RateDecision } from './rate-controller';
import { parseRtcp } from './rtcp';
import { LossMeter, ntpMiddle32, parseRtcpFeedback, rttFromReport } from './rtcp-feedback';
import type {
  ClientSignal,
  ClientState,
  InputEvent,
  InstanceSignal,
  KeyframeReason,
  PeerRateStats,
  StreamerConfig,
  StreamerLogLevel,
} from '../media-link/streamer.messages';

/** Payload types we offer and send. Chrome's own H.264 is 102+, anything dynamic works. */
export const OFFER_VIDEO_PAYLOAD_TYPE = 96;
export const OFFER_AUDIO_PAYLOAD_TYPE = 111;
export const H264_FMTP = 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1';
export const OPUS_FMTP = 'minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1';
/**
 * The id we offer the playout-delay header extension with (one-byte form: 1-14). Every video
 * packet then carries min = max = 0 (see adoptNegotiated), so Chrome presents each frame as
 * soon as it is decoded instead of holding it to a render time from its RTP timestamp.
 */
export const OFFER_PLAYOUT_DELAY_EXTMAP_ID = 5;
export const PLAYOUT_DELAY_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay';
/** RTP payload per packet: below the path MTU with room for SRTP and header extensions. */
const MAX_RTP_PAYLOAD = 1200;
/**
 * A negotiated (pre-agreed, never announced) data channel of our own: it makes libdatachannel
 * put an application m-line in the offer, so that the client's channels can open, without
 * the client ever seeing an extra channel. Its id has our parity (the DTLS client numbers its
 * channels even, the server odd), so it never collides with one of the client's.
 */
const hiddenChannelId = (dtlsSetup: DtlsSetup) => (dtlsSetup === 'active' ? 1022 : 1023);
type DtlsSetup = NonNullable<StreamerConfig['dtlsSetup']>;
const DEFAULT_DTLS_SETUP: DtlsSetup = 'active';
const LOCAL_DESCRIPTION_POLL_MS = 10;
const LOCAL_DESCRIPTION_TIMEOUT_MS = 3000;
/** How long a closed peer's connection outlives its channels, for the client to finish closing them. */
const CLOSE_LINGER_MS = 1000;
/**
 * How long a closing connection's channels outlive its `stream::closing` notice, for it to be
 * read (the media process exits EXIT_DELAY_MS after a stop, later than this).
 */
export const NOTICE_FLUSH_MS = 200;
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
const INVALID_CONTROL_LOG_EVERY = 100;
/**
 * Input events and requests (clipboard pieces, resizes) a client may send a second: a 1000 Hz
 * gaming mouse with a key held stays under it; beyond it they are dropped (one log line a
 * second) rather than flood xdotool, X and the desktop helper.
 */
export const INPUT_EVENTS_PER_SECOND = 1200;
/**
 * Packets kept per track for NACKs: about 0.4 s of video at 3 Mb/s, more at lower rates. A packet
 * older than that is useless to an interactive picture (the receiver has asked for a keyframe by
 * then), and resending it costs the link: with 512, the narrow-link bench's start (720p into a
 * 220 kb/s TURN cap) turned into seconds of retransmissions crowding out new packets (90-100 %
 * loss while sending 10-20 kb/s of new video); with 128, it cleared within about two seconds.
 */
const NACK_BUFFER_PACKETS = 128;
/** How often the rate controller hears what this peer's video really took. */
const SENT_REPORT_MS = 1000;

export interface PeerSettings {
  video: boolean;
  audio: boolean;
  /** The client sends its microphone (enable_microphone): the audio m-line receives too. */
  microphone: boolean;
  /** The user-named channels the client announced (settings.data_channels). */
  dataChannels: string[];
}

/** A driver's request for the application; `lost`: a clipboard piece the input rate dropped (its text is spoilt). */
export type PeerRequest = Extract<ControlMessage, { kind: 'resize' }> | (Extract<ControlMessage, { kind: 'clipboard' }> & { lost?: boolean });

/** How StreamerPeer.close() ends a connection (see there). */
export interface PeerCloseOptions {
  linger?: boolean;
  notice?: 'replaced' | 'stopping';
}

/** What becomes of a user-named channel's traffic (channel-link.ts's ChannelLink). */
export interface ChannelSink {
  fromClient(data: Buffer): void;
  /** Its bufferedAmount went below the low mark. */
  drained(): void;
  close(): void;
}

export interface PeerEvents {
  signal(message: InstanceSignal): void;
  clientState(state: ClientState, reason?: string): void;
  keyframe(reason: KeyframeReason): void;
  /** Its first video (a keyframe) went out. */
  firstFrame(): void;
  /** What it wants of the engine changed (a track opened or closed). */
  wantsChanged(): void;
  /** The link share (kb/s) its audio takes now: a REMB covers audio and video. */
  audioKbps(): number;
  input(event: InputEvent): void;
  /** The client asked for a clipboard change or a display size. */
  request(request: PeerRequest): void;
  /** The control channel opened: notices can go out. */
  controlOpened(): void;
  /** An RTP packet of the client's microphone (Opus). */
  microphone(rtp: Buffer): void;
  /** A user-named channel opened: where its traffic goes, or null to close it (the reason is logged there). */
  channel(name: string, channel: DataChannel): ChannelSink | null;
  /** The peer ended by itself (client left, ICE failed, timeout, bad answer); it is closed already. */
  ended(reason: string): void;
  log(level: StreamerLogLevel, message: string): void;
}

interface MediaTrack {
  kind: 'video' | 'audio';
  mid: string;
  ssrc: number;
  track: Track;
  /** We send on it (a microphone-only audio m-line only receives). */
  sends: boolean;
  /** The packetizer's configuration: its `timestamp` is set before each frame is sent. */
  rtp: RtpPacketizationConfig;
  open: boolean;
  packets: number;
}

/** RTP, not RTCP (RFC 5761: RTCP packet types 192-223 sit where RTP has marker and payload type). */
const isRtp = (msg: Buffer): boolean => msg.length >= 12 && (msg[1] < 192 || msg[1] > 223);

export function settingsFromMessage(message: Extract<ClientSignal, { type: 'settings' }>): PeerSettings {
  return { video: message.enable_video !== false, audio: message.enable_speaker !== false, microphone: message.enable_microphone === true, dataChannels: message.data_channels ?? [] };
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

export class StreamerPeer implements MediaSink {
  private pc: PeerConnection | null = null;
  private readonly tracks: MediaTrack[] = [];
  private readonly links: ChannelSink[] = [];
  /** Everything with native callbacks, closed explicitly on the way out. */
  private readonly owned: Array<Track | DataChannel> = [];
  private control: DataChannel | null = null;
  private mids: string[] = [];
  private readonly candidates = new CandidateExchange({
    send: (c) => this.events.signal({ type: 'candidate', candidate: Buffer.from(c.candidate, 'utf8').toString('base64'), sdpMid: c.mid, sdpMLineIndex: Math.max(0, this.mids.indexOf(c.mid)) }),
    apply: (c) => this.applyRemoteCandidate(c),
    log: (level, message) => this.log(level, message),
    ms: () => this.ms(),
  });
  private connectedAt = 0;
  /** When its video track opened (SRTP ready; often before the connection says connected). */
  private videoOpenedAt = 0;
  private closed = false;
  private connectTimer: NodeJS.Timeout | null = null;
  private readonly t0 = performance.now();
  /** Video goes out from a keyframe on: until one has been sent, other frames are dropped. */
  private keyframeSent = false;
  /** Video bytes sent since `sentSince`: the rate controller learns when the content, not the link, limits us. */
  private sentBytes = 0;
  private sentSince = 0;
  private playoutDelayId: number | null = null;
  private invalidControl = 0;
  /** This second's input events (the rate limit), and how many of them were dropped. */
  private inputWindow = { start: 0, count: 0, dropped: 0 };
  private readonly counters = { nack: 0, nackedPackets: 0, pli: 0, fir: 0 };
  private readonly cname = `streamstack-${randomBytes(6).toString('hex')}`;
  /**
   * One msid (MediaStream) per track. In one stream the browser would lip-sync video to the
   * audio jitter buffer and hold every frame back by that delay; for interactive streaming
   * latency matters more. The SDK reads each kind's own `event.streams[0]`.
   */
  private readonly msid = `stream-${randomBytes(6).toString('hex')}`;

  private readonly rate: RateController;
  /** The video's loss per ~1 s window (report counters and NACKs), for the rate controller. */
  private readonly loss = new LossMeter();

  constructor(
    readonly generation: number,
    private readonly config: StreamerConfig,
    readonly settings: PeerSettings,
    private readonly events: PeerEvents,
  ) {
    this.rate = new RateController(rateLimits(config));
  }

  get wantsVideo(): boolean {
    return !this.closed && this.tracks.some((t) => t.kind === 'video' && t.open);
  }

  get expectsVideo(): boolean {
    return !this.closed && this.settings.video;
  }

  get wantsAudio(): boolean {
    return !this.closed && this.tracks.some((t) => t.kind === 'audio' && t.open && t.sends);
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
    pc.onLocalCandidate(this.guard('candidate', (candidate: string, mid: string) => this.candidates.local({ candidate: candidate.replace(/^a=/, ''), mid })));
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
    if (this.settings.audio || this.settings.microphone) this.addTrack('audio', String(this.tracks.length), newSsrc());
    const dtlsSetup = c.dtlsSetup ?? DEFAULT_DTLS_SETUP;
    this.own(pc.createDataChannel('streamstack', { negotiated: true, id: hiddenChannelId(dtlsSetup) }));

    this.connectTimer = setTimeout(() => this.fail(`not connected within ${c.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS} ms`), c.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    this.connectTimer.unref();

    pc.setLocalDescription('offer');
    const sdp = this.candidates.withholdFrom(await this.localOffer(pc));
    if (this.closed) return;
    this.mids = [...sdp.matchAll(/^a=mid:(\S+)/gm)].map((m) => m[1]);
    // DTLS roles. `active` (default): we are the DTLS client and speak as soon as our ICE is
    // up; with actpass a browser is, and its handshake came ~100 ms later in Chromium (bench:
    // ICE connected -> DTLS connected 136 vs 63 ms p50). Either way the peer's certificate is
    // checked against the answer's fingerprint, which libdatachannel 0.24.5 stores only after
    // it has handed the answer to ICE: our candidates stay out of the offer until the answer is
    // set (withholdCandidates), so no handshake can start before that. (A libdatachannel
    // client as DTLS server sometimes drops our first ClientHello: OpenSSL resends after 1 s.)
    const offer = dtlsSetup === 'active' ? sdp.replace(/^a=setup:actpass(\r?)$/gm, 'a=setup:active$1') : sdp;
    this.events.signal({ type: 'offer', sdp: Buffer.from(offer, 'utf8').toString('base64') });
    this.log('info', `offer sent ${this.ms()} ms after settings (mids ${this.mids.join(',')}; video ssrc ${this.ssrcOf('video') ?? '-'}, audio ssrc ${this.ssrcOf('audio') ?? '-'})`);
    // Our candidates go out once the answer is set (setAnswer), not now.
  }

  setAnswer(sdpBase64: string): void {
    if (!this.pc || this.closed) return;
    if (this.candidates.answerSet) {
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
    this.adoptNegotiated(sdp);
    // Only now may the client learn where we are (candidate-exchange.ts).
    const queued = this.candidates.onAnswer(sdp);
    const video = this.tracks.find((t) => t.kind === 'video');
    const playout = video ? `; playout-delay extension ${this.playoutDelayId === null ? 'not accepted' : `id ${this.playoutDelayId}`}` : '';
    this.log('info', `answer applied ${this.ms()} ms after settings${queued ? `, then ${queued} queued candidate(s)` : ''}${playout}`);
  }

  addRemoteCandidate(message: Extract<ClientSignal, { type: 'candidate' }>): void {
    if (this.closed) return;
    let text = Buffer.from(message.candidate, 'base64').toString('utf8').trim();
    if (text.startsWith('a=')) text = text.slice(2);
    if (text === '') return; // end-of-candidates
    const mid = message.sdpMid ?? (message.sdpMLineIndex != null ? this.mids[message.sdpMLineIndex] : undefined) ?? this.mids[0] ?? '0';
    this.candidates.remote({ candidate: text, mid });
  }

  /** One access unit of the shared encoder: sent from a keyframe on, once the track is open. */
  sendVideo(unit: EncodedVideo, rtpTimestamp: number): void {
    const t = this.tracks.find((m) => m.kind === 'video');
    if (!t?.open || this.closed) return;
    if (!this.keyframeSent) {
      if (!unit.keyframe) return;
      this.keyframeSent = true;
      this.log('info', `first video (a keyframe) ${this.ms()} ms after settings, ${Math.round(performance.now() - this.videoOpenedAt)} ms after its track opened`);
      this.events.firstFrame();
    }
    this.send(t, unit.data, rtpTimestamp);
    this.sentBytes += unit.data.length;
  }

  sendAudio(packet: Buffer, rtpTimestamp: number): void {
    const t = this.tracks.find((m) => m.kind === 'audio');
    if (t?.open && !this.closed) this.send(t, packet, rtpTimestamp);
  }

  rateDecision(nowMs: number): RateDecision | null {
    if (!this.wantsVideo) return null;
    if (!this.sentSince) this.sentSince = nowMs;
    else if (nowMs - this.sentSince >= SENT_REPORT_MS) {
      this.rate.onSent((this.sentBytes * 8) / (nowMs - this.sentSince), nowMs);
      this.sentBytes = 0;
      this.sentSince = nowMs;
    }
    return this.rate.update(nowMs);
  }

  rateStats(): PeerRateStats {
    const s = this.rate.stats;
    return { generation: this.generation, targetKbps: s.targetKbps, estimateKbps: s.estimateKbps, lossFraction: s.lossFraction, rttMs: s.rttMs };
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

  /**
   * Closes everything; reports `disconnected` if the client had connected. Idempotent.
   * `linger`: the client lives on (it was replaced), so let it finish closing its channels.
   * `notice`: why, told to the client first (`stream::closing`): another client took over
   * (`replaced`), or the instance is going away (`stopping`: its session ends, or its node stops).
   */
  close(reason: string, { linger = false, notice }: PeerCloseOptions = {}): void {
    if (this.closed) return;
    // Ordered before the channel's close: the client tells a takeover from the instance going away.
    if (notice) this.sendControl({ type: 'stream::closing', data: { reason: notice } });
    this.closed = true;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.candidates.close();
    const wasConnected = this.connectedAt > 0;
    const summary = this.tracks.map((t) => `${t.kind} ${t.packets} frames`).join(', ');
    this.log(
      'info',
      `closing (${reason}); ${summary || 'no media'}; nack ${this.counters.nack} (${this.counters.nackedPackets} pkts), pli ${this.counters.pli}, fir ${this.counters.fir}`,
    );
    // A notice goes first: a channel closed at once could take it with it (seen with
    // node-datachannel clients on a busy machine). The channels' stream resets follow; the client
    // answers each with its own reset, which only completes (its channel 'closed', not stuck
    // 'closing' until ICE times out) while our association still lives: so a lingering
    // connection closes a moment after its channels.
    const pc = this.pc;
    const closePc = () => {
      try {
        pc?.close();
      } catch (e) {
        this.log('warn', `closing the peer connection: ${(e as Error).message}`);
      }
    };
    const closeChannels = () => {
      this.closeOwned();
      if (!linger) closePc();
    };
    if (notice) setTimeout(closeChannels, NOTICE_FLUSH_MS).unref();
    else closeChannels();
    if (linger) setTimeout(closePc, CLOSE_LINGER_MS).unref();
    // Drop every reference so the native objects can go.
    this.pc = null;
    this.control = null;
    for (const link of this.links.splice(0)) link.close();
    this.tracks.length = 0;
    this.events.wantsChanged();
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
      const direction = !this.settings.microphone ? 'SendOnly' : this.settings.audio ? 'SendRecv' : 'RecvOnly';
      const media = new Audio(mid, direction);
      media.addOpusCodec(pt, OPUS_FMTP);
      media.addSSRC(ssrc, this.cname, `${this.msid}-a`, `${this.msid}-audio`);
      track = pc.addTrack(media);
    }
    this.own(track);
    // Packetizer -> sender reports -> NACK retransmission: libdatachannel splits each access
    // unit (FU-A), stamps it with rtp.timestamp and keeps what it sent for NACKs.
    const rtp = new RtpPacketizationConfig(ssrc, this.cname, pt, clockRate);
    const packetizer = video ? new H264RtpPacketizer('StartSequence', rtp, MAX_RTP_PAYLOAD) : new RtpPacketizer(rtp);
    const reporter = new RtcpSrReporter(rtp);
    reporter.addToChain(new RtcpNackResponder(this.config.nackBufferPackets ?? NACK_BUFFER_PACKETS));
    packetizer.addToChain(reporter);
    track.setMediaHandler(packetizer);
    // RTCP from the receiver (after the handlers saw it): PLI/FIR -> keyframe, REMB/RR -> rate;
    // on a receiving audio m-line, RTP too: the client's microphone.
    track.onMessage(this.guard('rtcp', (msg: Buffer) => (!video && this.settings.microphone && isRtp(msg) ? this.events.microphone(msg) : this.onRtcp(kind, msg))));
    const entry: MediaTrack = { kind, mid, ssrc, track, sends: video || this.settings.audio, rtp, open: false, packets: 0 };
    // Sent before the track is open (SRTP ready), packets are lost: the engine starts this
    // peer's video with a keyframe forced when it opens.
    track.onOpen(
      this.guard(`${kind} open`, () => {
        entry.open = true;
        if (video) this.videoOpenedAt = performance.now();
        this.events.wantsChanged();
        if (video) this.events.keyframe('new-peer');
      }),
    );
    this.tracks.push(entry);
  }

  private send(t: MediaTrack, payload: Buffer, rtpTimestamp: number): void {
    t.rtp.timestamp = rtpTimestamp;
    try {
      t.track.sendMessageBinary(payload);
      t.packets++;
    } catch {
      // The track closed under us (the peer is going away).
    }
  }

  private onRtcp(kind: 'video' | 'audio', msg: Buffer): void {
    if (kind === 'video') {
      const now = performance.now();
      for (const fb of parseRtcpFeedback(msg)) {
        // REMB estimates everything received; the video gets what the audio leaves (at least
        // 1 kb/s: 0 would be taken for a receiver saying nothing).
        if (fb.kind === 'remb') this.rate.onRemb(Math.max(1000, fb.bps - (this.wantsAudio ? this.events.audioKbps() * 1000 : 0)), now);
        // Only our video's report blocks: audio loss would skew the video's rate.
        else if (fb.ssrc === this.ssrcOf('video')) {
          const rttMs = rttFromReport(fb.lsr, fb.dlsr, ntpMiddle32(Date.now()));
          const fractionLost = this.loss.onReport(fb, now);
          if (fractionLost !== null) this.rate.onReceiverReport({ fractionLost, rttMs }, now);
          else if (rttMs !== null) this.rate.onRtt(rttMs, now);
        }
      }
    }
    for (const fb of parseRtcp(msg)) {
      if (fb.kind === 'nack') {
        if (kind === 'video' && fb.mediaSsrc === this.ssrcOf('video')) this.loss.onNack(fb.sequences);
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

  private onState(state: string): void {
    if (this.closed) return;
    if (state === 'connected' && !this.connectedAt) {
      this.connectedAt = performance.now();
      if (this.connectTimer) clearTimeout(this.connectTimer);
      const pair = this.pc?.getSelectedCandidatePair();
      const via = pair ? ` via ${pair.local.type}/${pair.local.transportType} ${pair.local.address}:${pair.local.port} <-> ${pair.remote.type} ${pair.remote.address}:${pair.remote.port}` : '';
      this.log('info', `connected ${this.ms()} ms after settings${via}`);
      this.events.clientState('connected');
    } else if ((state === 'failed' || state === 'disconnected' || state === 'closed') && !this.connectedAt) {
      // Never connected (here: a client may see its side connected and leave before ours is):
      // say why to the client, if it still listens, and to the session.
      this.fail(`the peer connection ${state === 'failed' ? 'failed' : 'closed'} before it connected (ICE, DTLS or SCTP)`);
    } else if (state === 'disconnected' || state === 'failed' || state === 'closed') {
      this.end(`peer connection ${state}`);
    }
  }

  private applyRemoteCandidate({ candidate, mid }: Candidate): void {
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
      this.events.controlOpened();
    } else {
      const link = this.settings.dataChannels.includes(label) ? this.events.channel(label, dc) : null;
      if (!link) {
        if (!this.settings.dataChannels.includes(label)) this.log('warn', `closing data channel ${JSON.stringify(label.slice(0, 40))}: not announced in settings.data_channels`);
        dc.close();
        return;
      }
      this.links.push(link);
      dc.onMessage(
        this.guard('data', (msg: string | Buffer | ArrayBuffer) => {
          if (!this.closed) link.fromClient(typeof msg === 'string' ? Buffer.from(msg, 'utf8') : Buffer.from(msg as ArrayBuffer));
        }),
      );
      dc.onBufferedAmountLow(this.guard('drained', () => link.drained()));
      dc.onClosed(this.guard('channel closed', () => link.close()));
    }
    this.log('info', `client data channel ${JSON.stringify(label)} open`);
  }

  private onControl(msg: string | Buffer | ArrayBuffer): void {
    if (this.closed) return;
    const parsed = parseControlMessage(msg);
    if (parsed.kind === 'input') {
      if (this.withinInputRate()) this.events.input(parsed.event);
    } else if (parsed.kind === 'clipboard' || parsed.kind === 'resize') {
      if (this.withinInputRate()) this.events.request(parsed);
      // Its text would arrive with a hole in it: the streamer drops it whole instead.
      else if (parsed.kind === 'clipboard') this.events.request({ ...parsed, text: '', lost: true });
    } else if (parsed.kind === 'disconnect') this.end('the client sent stream::disconnect');
    else if (this.invalidControl++ % INVALID_CONTROL_LOG_EVERY === 0) {
      this.log('warn', `ignored control message (${this.invalidControl} so far): ${parsed.reason}`);
    }
  }

  /** Counts an input event against this second's allowance; says whether it may pass. */
  private withinInputRate(): boolean {
    const now = performance.now();
    if (now - this.inputWindow.start >= 1000) this.inputWindow = { start: now, count: 0, dropped: 0 };
    const w = this.inputWindow;
    if (w.count++ < INPUT_EVENTS_PER_SECOND) return true;
    if (w.dropped++ === 0) this.log('warn', `dropping input events beyond ${INPUT_EVENTS_PER_SECOND} a second`);
    return false;
  }

  private adoptNegotiated(answer: string): void {
    for (const section of answer.split(/\r?\nm=/).slice(1)) {
      const mid = /\r?\na=mid:(\S+)/.exec(section)?.[1];
      const t = this.tracks.find((x) => x.mid === mid);
      if (!t) continue;
      // Header extensions go out only as the answer accepted them, with the id it gives:
      // min = max = 0 asks the receiver to present each frame as soon as it is decoded.
      if (t.kind !== 'video') continue;
      this.playoutDelayId = extmapId(section, PLAYOUT_DELAY_URI);
      if (this.playoutDelayId !== null) {
        t.rtp.playoutDelayId = this.playoutDelayId;
        t.rtp.playoutDelayMin = 0;
        t.rtp.playoutDelayMax = 0;
      }
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

  /** Ends a peer that did not work out, saying why to its client and, if it never connected, to the session. */
  private fail(message: string): void {
    if (this.closed) return;
    this.events.signal({ type: 'error', message });
    if (!this.connectedAt) this.events.clientState('failed', message);
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
