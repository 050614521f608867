/**
 * The client's microphone: Opus packets (RTP payloads) in, interleaved s16le PCM at 48 kHz out,
 * through node-av's libopus (whose decoder gives s16 unless asked for float).
 */
// The package root (not 'node-av/lib'): see the import note in video-encoder.ts.
import { AV_CHANNEL_LAYOUT_MONO, AV_CHANNEL_LAYOUT_STEREO, AVERROR_EAGAIN, AVERROR_EOF, Codec, CodecContext, FF_DECODER_LIBOPUS, Frame, Packet } from 'node-av';
import { check } from './av-util';

export class OpusDecoder {
  private ctx: CodecContext | null;

  private constructor(
    ctx: CodecContext,
    private readonly packet: Packet,
    private readonly frame: Frame,
    readonly channels: 1 | 2,
  ) {
    this.ctx = ctx;
  }

  static open(channels: 1 | 2): OpusDecoder {
    const codec = Codec.findDecoderByName(FF_DECODER_LIBOPUS);
    if (!codec) throw new Error('opus decoder: libopus is not in this FFmpeg build');
    const ctx = new CodecContext();
    const packet = new Packet();
    const frame = new Frame();
    try {
      ctx.allocContext3(codec);
      ctx.sampleRate = 48000;
      ctx.channelLayout = channels === 2 ? AV_CHANNEL_LAYOUT_STEREO : AV_CHANNEL_LAYOUT_MONO;
      check(ctx.open2Sync(codec, null), 'open the libopus decoder');
      packet.alloc();
      frame.alloc();
      return new OpusDecoder(ctx, packet, frame, channels);
    } catch (e) {
      ctx.freeContext();
      packet.free();
      frame.free();
      throw new Error(`opus decoder cannot be opened: ${(e as Error).message}`);
    }
  }

  /** PCM of one Opus packet (interleaved s16le); empty when the decoder has nothing yet. */
  decode(opus: Buffer): Buffer {
    const ctx = this.ctx;
    if (!ctx) throw new Error('opus decoder is closed');
    this.packet.data = opus;
    check(ctx.sendPacketSync(this.packet), 'send an opus packet');
    this.packet.unref();
    const out: Buffer[] = [];
    for (;;) {
      const ret = ctx.receiveFrameSync(this.frame);
      if (ret === AVERROR_EAGAIN || ret === AVERROR_EOF) break;
      check(ret, 'decode opus');
      const bytes = this.frame.nbSamples * this.channels * 2;
      out.push(Buffer.from(this.frame.data![0].subarray(0, bytes)));
      this.frame.unref();
    }
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  close(): void {
    const ctx = this.ctx;
    if (!ctx) return;
    this.ctx = null;
    ctx.freeContext();
    this.packet.free();
    this.frame.free();
  }
}
