/**
 * The media engine of one instance: raw media from its source, encoded in-process (node-av),
 * fanned out to every peer (a `MediaSink`). It owns the run-time decisions about the stream:
 *
 * - keyframes on demand: a peer whose video track opens gets an IDR at once, made from the
 *   frame the source delivered last while it connected (else forced on the next frame);
 *   PLI/FIR force one too, at most one per KEYFRAME_MIN_INTERVAL_MS (a request inside that
 *   interval is served when it ends). Every peer sees that keyframe; none needs an encoder restart.
 * - rate: each peer's rate controller (rate-controller.ts) proposes a target from its receiver's
 *   feedback; the most constrained one wins (one encoder for all). Below the floor the
 *   resolution is lowered (swscale, encoder reopened at the new size, which starts with an
 *   IDR), then the frame rate (frames skipped), or the other way round (`degradation`).
 * - work only while someone watches: with no open video track nothing is read or encoded.
 */
import { OPUS_FRAME_SAMPLES, OpusEncoder } from './av/opus-encoder';
import { scaleI420 } from './av/x11-capture';
import { VideoEncoder, type EncodedVideo } from './av/video-encoder';
import { FramePacer } from './frame-pacer';
import { combineDecisions, rateLimits, significantChange, type RateDecision, type RateLimits } from './rate-controller';
import { openSource, type RawSource, type VideoFrame } from './sources';
import type { KeyframeReason, MediaStats, PeerRateStats, StreamerConfig, StreamerLogLevel } from '../media-link/streamer.messages';

/** A held frame (see `hold`) older than this waits for the next one instead. */
const HELD_FRAME_MAX_AGE_MS = 50;
/** PLI/FIR storms cost at most one IDR per this interval. */
export const KEYFRAME_MIN_INTERVAL_MS = 250;
const RATE_TICK_MS = 200;
const STATS_TICK_MS = 1000;
/** Every this many stats reports, one log line with each peer's rate control. */
const STATS_LOG_EVERY = 5;
/** Audio stamps re-anchor to the wall clock when they drift this far (a stalled source). */
const AUDIO_DRIFT_MAX_MS = 200;
/** Below the video's floor (a lower scale or frame rate) audio takes this share of its bitrate. */
const NARROW_AUDIO_FACTOR = 0.5;
/** Headers of each 20 ms Opus packet on the wire (IPv4 20 + UDP 8 + RTP 12 + SRTP tag 10 bytes), in kb/s. */
const AUDIO_OVERHEAD_KBPS = (50 * 50 * 8) / 1000;
/** A source silent this long while someone watches is reported (once) in the log... */
const SOURCE_STALL_WARN_MS = 2000;
/** ...and this long (StreamerConfig.sourceStallMs) fails the instance: a viewer must not stare at a frozen picture. */
export const DEFAULT_SOURCE_STALL_MS = 10_000;

/** One peer as the engine sees it. */
export interface MediaSink {
  readonly generation: number;
  /** Its video track is open: it wants frames (its first is a keyframe). */
  readonly wantsVideo: boolean;
  /** It will want video once connected: the source reads ahead, so its first frame is fresh. */
  readonly expectsVideo: boolean;
  readonly wantsAudio: boolean;
  sendVideo(unit: EncodedVideo, rtpTimestamp: number): void;
  sendAudio(packet: Buffer, rtpTimestamp: number): void;
  /** What its rate controller wants now; null when it takes no video. */
  rateDecision(nowMs: number): RateDecision | null;
  rateStats(): PeerRateStats;
}

export interface EngineHost {
  log(level: StreamerLogLevel, message: string): void;
  stats(stats: MediaStats): void;
  /** The source or the encoder failed for good. */
  fatal(reason: string): void;
}

export class MediaEngine {
  private source: RawSource | null = null;
  /** The size the source delivers now (an x11 display can be resized); the encoder follows it. */
  private sourceSize: { width: number; height: number };
  private video: VideoEncoder | null = null;
  private opus: OpusEncoder | null = null;
  private readonly sinks = new Set<MediaSink>();
  private readonly limits: RateLimits;
  private decision: RateDecision;
  private forceKeyframe = false;
  private deferredKeyframe = false;
  private lastKeyframeAt = -Infinity;
  private readonly pacer = new FramePacer();
  /** The encoder that has encoded a frame already (see `hold`). */
  private warmed: VideoEncoder | null = null;
  /** The last frame the source delivered while no peer took video (its planes copied), and when; null once encoded. */
  private held: { frame: VideoFrame; at: number } | null = null;
  private audioAnchorMs = 0;
  private audioSamples = 0;
  private audioActive = false;
  private audioKbps: number;
  private videoWanted = false;
  /** When the source last delivered a frame (or video was last asked for). */
  private lastFrameAt = 0;
  private stallWarned = false;
  private readonly counters = { bytes: 0, frames: 0, keyframes: 0 };
  private timers: NodeJS.Timeout[] = [];
  private statsReports = 0;
  private closed = false;
  private failed = false;

  constructor(
    private readonly config: StreamerConfig,
    private readonly host: EngineHost,
  ) {
    this.limits = rateLimits(config);
    this.audioKbps = config.audio.bitrateKbps;
    this.decision = { targetKbps: config.video.startKbps, fps: config.fps, scale: 1 };
    this.sourceSize = { width: config.width, height: config.height };
  }

  /**
   * What a peer's audio takes of its link (kb/s on the wire): a receiver's REMB estimates all
   * it receives, so the video gets the rest.
   */
  get audioOnTheWireKbps(): number {
    return this.audioKbps + AUDIO_OVERHEAD_KBPS;
  }

  get encoderName(): string {
    return this.video?.name ?? 'none';
  }

  /** Opens the encoders and the source; rejects with the reason if any cannot be opened. */
  async open(): Promise<void> {
    const c = this.config;
    this.video = this.openVideo(c.width, c.height);
    this.opus = this.openOpus(c.audio.bitrateKbps);
    this.source = openSource(c.source, c, {
      video: (frame) => this.guard('video frame', () => this.onFrame(frame)),
      audio: (pcm) => this.guard('audio', () => this.onAudio(pcm)),
      fatal: (reason) => this.fail(reason),
      log: (level, message) => this.host.log(level, message),
    });
    await this.source.open();
    this.timers.push(setInterval(() => this.guard('rate control', () => this.applyRate()), RATE_TICK_MS));
    this.timers.push(setInterval(() => this.guard('stats', () => this.reportStats()), STATS_TICK_MS));
  }

  addSink(sink: MediaSink): void {
    this.sinks.add(sink);
    this.sinksChanged();
  }

  removeSink(sink: MediaSink): void {
    this.sinks.delete(sink);
    this.sinksChanged();
  }

  /**
   * A sink's wants changed (a peer came, a track opened or closed): read the source only as
   * needed. Video is read from a peer's settings on, not from its track opening: a paused
   * source has stale frames in its socket and the frame source is mid-write, and waiting for
   * them to drain cost hundreds of ms between connect and the first frame on a busy node.
   */
  sinksChanged(): void {
    if (this.closed) return;
    const sinks = [...this.sinks];
    const video = sinks.some((s) => s.wantsVideo || s.expectsVideo);
    const audio = sinks.some((s) => s.wantsAudio);
    if (audio && !this.audioActive) this.audioSamples = -1; // re-anchor at the next packet
    this.audioActive = audio;
    if (video && !this.videoWanted) this.lastFrameAt = performance.now();
    if (!video) this.held = null;
    this.videoWanted = video;
    this.source?.setActive(video, audio);
  }

  /** The display was resized: capture at its new size (the encoder follows the first frame of it). */
  resizeSource(width: number, height: number): Promise<void> {
    if (!this.source) return Promise.reject(new Error('the source is not open'));
    return this.source.resize(width, height);
  }

  /** Forces an IDR on the next frame (new peers at once; receivers' requests rate-limited). */
  requestKeyframe(reason: KeyframeReason): void {
    const sinceLast = performance.now() - this.lastKeyframeAt;
    if ((reason === 'pli' || reason === 'fir') && sinceLast < KEYFRAME_MIN_INTERVAL_MS) {
      this.deferredKeyframe = true;
      return;
    }
    if (!this.forceKeyframe) this.host.log('info', `keyframe forced (${reason})`);
    this.forceKeyframe = true;
    // A peer whose track just opened, with nobody watching before it: its IDR from the frame
    // held meanwhile (after this callback: not inside node-datachannel's).
    if (reason === 'new-peer' && this.held) setImmediate(() => this.guard('video frame', () => this.encodeHeld()));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.source?.close();
    this.video?.close();
    this.opus?.close();
    this.sinks.clear();
  }

  // ------------------------------------------------------------------ video

  private onFrame(frame: VideoFrame): void {
    if (this.closed || !this.video) return;
    if (frame.width !== this.sourceSize.width || frame.height !== this.sourceSize.height) {
      // The display was resized: the encoder follows (its first frame at the new size is an IDR).
      this.sourceSize = { width: frame.width, height: frame.height };
      this.resize(this.decision.scale);
    }
    this.lastFrameAt = performance.now();
    if (this.stallWarned) this.host.log('info', 'the source delivers frames again');
    this.stallWarned = false;
    const sinks = [...this.sinks].filter((s) => s.wantsVideo);
    if (sinks.length === 0) return this.hold(frame);
    this.held = null;
    this.encode(frame, sinks);
  }

  /**
   * A frame nobody takes yet (a peer is connecting) is kept: when its video track opens, that
   * peer's IDR is made from it at once instead of from the next frame, up to a frame interval
   * and the source's jitter later.
   */
  private hold(frame: VideoFrame): void {
    // The source reuses its buffer: copy, into the previous copy's when the size is the same.
    const previous = this.held?.frame.i420;
    const i420 = previous?.length === frame.i420.length ? previous : Buffer.allocUnsafe(frame.i420.length);
    frame.i420.copy(i420);
    this.held = { frame: { ...frame, i420 }, at: performance.now() };
    // A fresh encoder's first frame costs several times a later IDR (x264 fills its frame pool,
    // the pages are touched the first time): pay that now, while the peer connects, and throw
    // the result away. The peer's own IDR follows later (its first frame is forced).
    const video = this.video;
    if (video && this.warmed !== video && video.width === frame.width && video.height === frame.height) {
      this.warmed = video;
      video.encode(frame.i420, true);
    }
  }

  /** The held frame to the peers that want video now, if it is recent (no frame was encoded since). */
  private encodeHeld(): void {
    const held = this.held;
    if (this.closed || !held || performance.now() - held.at > HELD_FRAME_MAX_AGE_MS) return;
    const sinks = [...this.sinks].filter((s) => s.wantsVideo);
    if (sinks.length === 0) return;
    this.held = null;
    this.encode(held.frame, sinks);
  }

  private encode(frame: VideoFrame, sinks: MediaSink[]): void {
    const video = this.video;
    if (!video) return;
    // Below the floor the controller lowers the frame rate: skip frames to its pace.
    if (!this.pacer.take(frame.captureMs, this.decision.fps, this.config.fps)) return;
    const now = performance.now();
    if (this.deferredKeyframe && now - this.lastKeyframeAt >= KEYFRAME_MIN_INTERVAL_MS) {
      this.deferredKeyframe = false;
      this.forceKeyframe = true;
    }
    const i420 = video.width === frame.width && video.height === frame.height ? frame.i420 : scaleI420(frame.i420, frame.width, frame.height, video.width, video.height);
    const force = this.forceKeyframe;
    this.forceKeyframe = false;
    const units = video.encode(i420, force);
    const rtpTimestamp = Math.round(frame.captureMs * 90) >>> 0;
    for (const unit of units) {
      if (unit.keyframe) {
        this.lastKeyframeAt = now;
        this.counters.keyframes++;
      }
      this.counters.bytes += unit.data.length;
      this.counters.frames++;
      for (const sink of sinks) sink.sendVideo(unit, rtpTimestamp);
    }
  }

  private openVideo(width: number, height: number): VideoEncoder {
    const c = this.config;
    return VideoEncoder.open({
      width,
      height,
      fps: c.fps,
      bitrateKbps: this.decision.targetKbps,
      gop: c.video.gop,
      encoder: c.video.encoder,
      log: (level, message) => this.host.log(level, message),
    });
  }

  /** A source that stops sending frames is logged, then fails the instance. */
  private checkSource(now: number): void {
    if (!this.videoWanted) return;
    const silent = now - this.lastFrameAt;
    const limit = this.config.sourceStallMs ?? DEFAULT_SOURCE_STALL_MS;
    if (silent >= limit) this.fail(`the source sent no frame for ${Math.round(silent)} ms`);
    else if (silent >= Math.min(SOURCE_STALL_WARN_MS, limit / 2) && !this.stallWarned) {
      this.stallWarned = true;
      this.host.log('warn', `the source has sent no frame for ${Math.round(silent)} ms (the instance fails at ${limit} ms)`);
    }
  }

  /** The most constrained peer's decision goes to the encoder. */
  private applyRate(): void {
    if (this.closed || !this.video) return;
    const now = performance.now();
    this.checkSource(now);
    const decisions = [...this.sinks].map((s) => s.rateDecision(now)).filter((d): d is RateDecision => d !== null);
    if (decisions.length === 0) return;
    const next = combineDecisions(decisions, this.limits);
    // `decision` is what the encoder runs at: small steps add up against it until they matter.
    const prev = this.decision;
    if (!significantChange(prev, next)) return;
    this.decision = next;
    if (next.targetKbps !== prev.targetKbps) this.video.setBitrate(next.targetKbps);
    if (next.scale !== prev.scale) this.resize(next.scale);
    // On a link too narrow for the video's floor, audio gives up half of its share too.
    const narrow = (d: RateDecision) => d.scale < 1 || d.fps < this.config.fps;
    if (narrow(next) !== narrow(prev)) {
      const kbps = Math.round(this.config.audio.bitrateKbps * (narrow(next) ? NARROW_AUDIO_FACTOR : 1));
      this.opus?.close();
      this.opus = this.openOpus(kbps);
      this.audioKbps = kbps;
      this.host.log('info', `audio at ${kbps} kb/s`);
    }
    if (next.fps !== prev.fps || next.scale !== prev.scale) {
      this.host.log('info', `rate: ${next.targetKbps} kb/s, ${next.fps} fps, scale ${next.scale} (was ${prev.targetKbps} kb/s, ${prev.fps} fps, scale ${prev.scale})`);
    }
  }

  private openOpus(bitrateKbps: number): OpusEncoder {
    return OpusEncoder.open({ sampleRate: 48000, channels: this.config.audio.channels as 1 | 2, bitrateKbps });
  }

  /** Reopens the encoder at `scale` of the source size (its first frame is an IDR). */
  private resize(scale: number): void {
    const width = Math.max(2, Math.round(this.sourceSize.width * scale) & ~1);
    const height = Math.max(2, Math.round(this.sourceSize.height * scale) & ~1);
    const old = this.video;
    if (old && old.width === width && old.height === height) return;
    this.video = this.openVideo(width, height);
    old?.close();
    this.host.log('info', `encoding at ${width}x${height} (scale ${scale})`);
    this.requestKeyframe('resize');
  }

  // ------------------------------------------------------------------ audio

  private onAudio(pcm: Buffer): void {
    if (this.closed || !this.opus || !this.audioActive) return;
    const sinks = [...this.sinks].filter((s) => s.wantsAudio);
    if (sinks.length === 0) return;
    const now = Date.now();
    const packets = this.opus.encode(pcm);
    for (const packet of packets) {
      // Stamps count samples from an anchor on the wall clock. Behind it (the source
      // stalled): jump forward. Ahead of it (a burst): drop, so stamps only ever move forward.
      const drift = this.audioAnchorMs + this.audioSamples / 48 - now;
      if (drift > AUDIO_DRIFT_MAX_MS) continue;
      if (this.audioSamples < 0 || drift < -AUDIO_DRIFT_MAX_MS) {
        this.audioAnchorMs = this.audioSamples < 0 ? now : this.audioAnchorMs + Math.ceil(-drift / 20) * 20;
        if (this.audioSamples < 0) this.audioSamples = 0;
      }
      const rtpTimestamp = Math.round(this.audioAnchorMs * 48 + this.audioSamples) >>> 0;
      this.audioSamples += OPUS_FRAME_SAMPLES;
      for (const sink of sinks) sink.sendAudio(packet, rtpTimestamp);
    }
  }

  // ------------------------------------------------------------------ reporting

  private reportStats(): void {
    const peers = [...this.sinks].map((s) => s.rateStats());
    const sentKbps = Math.round((this.counters.bytes * 8) / STATS_TICK_MS);
    const { frames, keyframes } = this.counters;
    this.counters.bytes = this.counters.frames = this.counters.keyframes = 0;
    if (peers.length === 0) return;
    const stats: MediaStats = {
      encoder: this.encoderName,
      targetKbps: this.decision.targetKbps,
      sentKbps,
      fps: frames,
      width: this.video?.width ?? 0,
      height: this.video?.height ?? 0,
      keyframes,
      peers,
    };
    this.host.stats(stats);
    if (this.statsReports++ % STATS_LOG_EVERY === 0) this.host.log('info', describeStats(stats));
  }

  private fail(reason: string): void {
    if (this.closed || this.failed) return;
    this.failed = true; // once: a dying source closes both its sockets
    this.host.fatal(reason);
  }

  /** An exception on the media path is the instance failing, not this process crashing. */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(`${what}: ${(e as Error).message}`);
    }
  }
}

/** `libx264 1280x720 30 fps, target 2400 kb/s, sent 2310 kb/s, 1 keyframe; g3: target 2400, REMB 2600, loss 0.0 %, rtt 4 ms` */
export function describeStats(s: MediaStats): string {
  const peers = s.peers.map(
    (p) =>
      `g${p.generation}: target ${p.targetKbps}, REMB ${p.estimateKbps ?? '-'}, loss ${(p.lossFraction * 100).toFixed(1)} %, rtt ${p.rttMs === null ? '-' : `${Math.round(p.rttMs)} ms`}`,
  );
  return `${s.encoder} ${s.width}x${s.height} ${s.fps} fps, target ${s.targetKbps} kb/s, sent ${s.sentKbps} kb/s, ${s.keyframes} keyframe(s); ${peers.join('; ')}`;
}
