/**
 * Opus for WebRTC through node-av's libopus: interleaved s16le PCM in (libopus takes s16
 * interleaved as it is, so nothing is resampled or converted), whole 20 ms packets out.
 *
 * `application=lowdelay` (OPUS_APPLICATION_RESTRICTED_LOWDELAY): CELT only, which drops SILK's
 * extra lookahead: 2.5 ms of encoder lookahead instead of 6.5 ms, so 22.5 ms of algorithmic
 * delay with 20 ms frames instead of 26.5 ms. `voip` has the same delay as `audio` (it only tunes
 * for speech), so it would not lower latency. The cost: no SILK (speech at very low bitrates)
 * and no in-band FEC (SILK-only); at the tens of kb/s used for application audio CELT is the
 * better fit anyway.
 */
// The package root (not 'node-av/lib'): see the import note in video-encoder.ts.
import {
  AV_CHANNEL_LAYOUT_MONO,
  AV_CHANNEL_LAYOUT_STEREO,
  AV_OPT_TYPE_STRING,
  AV_SAMPLE_FMT_S16,
  AVERROR_EAGAIN,
  AVERROR_EOF,
  Codec,
  CodecContext,
  FF_ENCODER_LIBOPUS,
  FFmpegError,
  Frame,
  Packet,
  Rational,
} from 'node-av';
import { check } from './av-util';

export interface OpusEncoderOptions {
  sampleRate: 48000;
  channels: 1 | 2;
  bitrateKbps: number;
}

/** 20 ms at 48 kHz. */
export const OPUS_FRAME_SAMPLES = 960;

export class OpusEncoder {
  /** Bytes of one 20 ms frame of interleaved s16 PCM. */
  private readonly frameBytes: number;
  private ctx: CodecContext | null;
  private readonly frame: Frame;
  private readonly packet: Packet;
  /** PCM carried over to the next call (less than one frame). */
  private readonly pending: Buffer;
  private pendingBytes = 0;
  private pts = 0;

  private constructor(
    ctx: CodecContext,
    frame: Frame,
    packet: Packet,
    readonly channels: 1 | 2,
  ) {
    this.ctx = ctx;
    this.frame = frame;
    this.packet = packet;
    this.frameBytes = OPUS_FRAME_SAMPLES * channels * 2;
    this.pending = Buffer.alloc(this.frameBytes);
  }

  static open(opts: OpusEncoderOptions): OpusEncoder {
    if (opts.sampleRate !== 48000) throw new Error(`opus encoder: only 48000 Hz is supported, got ${opts.sampleRate}`);
    if (opts.channels !== 1 && opts.channels !== 2) throw new Error(`opus encoder: 1 or 2 channels, got ${opts.channels}`);
    if (!(opts.bitrateKbps > 0)) throw new Error(`opus encoder: invalid bitrate ${opts.bitrateKbps} kb/s`);
    const codec = Codec.findEncoderByName(FF_ENCODER_LIBOPUS);
    if (!codec) throw new Error('opus encoder: libopus is not in this FFmpeg build');
    const layout = opts.channels === 2 ? AV_CHANNEL_LAYOUT_STEREO : AV_CHANNEL_LAYOUT_MONO;
    const ctx = new CodecContext();
    const frame = new Frame();
    const packet = new Packet();
    try {
      ctx.allocContext3(codec);
      ctx.sampleRate = 48000;
      ctx.sampleFormat = AV_SAMPLE_FMT_S16;
      ctx.channelLayout = layout;
      ctx.timeBase = new Rational(1, 48000);
      ctx.bitRate = BigInt(Math.round(opts.bitrateKbps * 1000));
      // Options as strings before open2 (node-av frees an options dictionary passed to open2).
      for (const [key, value] of Object.entries({ application: 'lowdelay', frame_duration: '20' })) {
        const ret = ctx.setOption(key, value, AV_OPT_TYPE_STRING);
        if (ret < 0) throw new Error(`option ${key}=${value}: ${FFmpegError.strerror(ret)}`);
      }
      check(ctx.open2Sync(codec, null), 'open libopus');
      if (ctx.frameSize !== OPUS_FRAME_SAMPLES) throw new Error(`libopus frame size is ${ctx.frameSize}, expected ${OPUS_FRAME_SAMPLES}`);
      frame.alloc();
      frame.format = AV_SAMPLE_FMT_S16;
      frame.nbSamples = OPUS_FRAME_SAMPLES;
      frame.sampleRate = 48000;
      frame.channelLayout = layout;
      check(frame.getBuffer(0), 'audio frame buffer');
      packet.alloc();
      return new OpusEncoder(ctx, frame, packet, opts.channels);
    } catch (e) {
      ctx.freeContext();
      frame.free();
      packet.free();
      throw new Error(`opus encoder cannot be opened: ${(e as Error).message}`);
    }
  }

  /**
   * Takes interleaved s16le PCM of any length (whole samples: a multiple of 2 x channels bytes);
   * returns every whole 20 ms packet it completes, keeping the remainder for the next call.
   */
  encode(pcm: Buffer): Buffer[] {
    if (!this.ctx) throw new Error('opus encoder is closed');
    if (pcm.length % (2 * this.channels) !== 0) throw new Error(`opus encoder: ${pcm.length} bytes is not a whole number of ${this.channels}-channel s16 samples`);
    const out: Buffer[] = [];
    let offset = 0;
    while (offset < pcm.length) {
      const take = Math.min(this.frameBytes - this.pendingBytes, pcm.length - offset);
      pcm.copy(this.pending, this.pendingBytes, offset, offset + take);
      this.pendingBytes += take;
      offset += take;
      if (this.pendingBytes === this.frameBytes) {
        this.encodeFrame(out);
        this.pendingBytes = 0;
      }
    }
    return out;
  }

  /** Frees the native resources; idempotent. The carried-over remainder is dropped. */
  close(): void {
    const ctx = this.ctx;
    if (!ctx) return;
    this.ctx = null;
    ctx.freeContext();
    this.frame.free();
    this.packet.free();
  }

  private encodeFrame(out: Buffer[]): void {
    const ctx = this.ctx!;
    // libopus encodes within sendFrame, so the frame may point into `pending` for that call
    // (fromBuffer aliases in node-av 6.1.1; see video-encoder.ts): no copy, no plane views.
    check(this.frame.fromBuffer(this.pending), 'audio frame');
    this.frame.pts = BigInt(this.pts);
    this.pts += OPUS_FRAME_SAMPLES;
    check(ctx.sendFrameSync(this.frame), 'send audio frame');
    for (;;) {
      const ret = ctx.receivePacketSync(this.packet);
      if (ret === AVERROR_EAGAIN || ret === AVERROR_EOF) return;
      check(ret, 'receive opus packet');
      const packet = this.packet.data;
      if (packet && packet.length > 0) out.push(Buffer.from(packet));
      this.packet.unref();
    }
  }
}

