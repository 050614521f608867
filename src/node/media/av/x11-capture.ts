/**
 * X display capture in-process: FFmpeg's x11grab (through node-av) paces itself to the frame
 * rate and hands over BGR0 frames; swscale turns them into packed I420 for the encoder, all on
 * native frames (see `read`).
 * Plus `scaleI420`, the resize the rate controller uses when it lowers the resolution.
 *
 * Buffers returned by `X11Capture.read` and `scaleI420` are REUSED (a ring of OUTPUT_RING):
 * consume them (encode, copy) before that many further calls. The media engine encodes each
 * frame synchronously as it arrives, so it never holds one that long.
 */
// The package root (not 'node-av/lib'): see the import note in video-encoder.ts.
import {
  AV_PIX_FMT_YUV420P,
  AVERROR_EOF,
  AVERROR_EXIT,
  Codec,
  CodecContext,
  Dictionary,
  FFmpegError,
  FormatContext,
  Frame,
  InputFormat,
  Packet,
  SoftwareScaleContext,
  SWS_BILINEAR,
  SWS_POINT,
  type AVPixelFormat,
} from 'node-av';
import { check, i420Planes } from './av-util';

export interface X11CaptureOptions {
  /** The X display, e.g. ':99'. */
  display: string;
  width: number;
  height: number;
  fps: number;
  drawMouse?: boolean;
}

/** Output buffers in rotation (see the file comment). */
const OUTPUT_RING = 3;

export class X11Capture {
  readonly width: number;
  readonly height: number;
  private fc: FormatContext | null;
  private readonly packet: Packet;
  /** x11grab's packets are rawvideo: "decoding" wraps the packet's memory in a frame, no copy. */
  private readonly decoder: CodecContext;
  private readonly grabbed: Frame;
  private readonly yuv: Frame;
  private readonly sws: SoftwareScaleContext;
  private readonly ring: Buffer[];
  private ringIndex = 0;
  private reading: Promise<unknown> | null = null;
  private closing: Promise<void> | null = null;

  private constructor(fc: FormatContext, decoder: CodecContext, width: number, height: number, srcFormat: AVPixelFormat) {
    this.fc = fc;
    this.decoder = decoder;
    this.width = width;
    this.height = height;
    this.packet = new Packet();
    this.packet.alloc();
    this.grabbed = new Frame();
    this.grabbed.alloc();
    this.yuv = new Frame();
    this.yuv.alloc();
    this.yuv.format = AV_PIX_FMT_YUV420P;
    this.yuv.width = width;
    this.yuv.height = height;
    check(this.yuv.getBuffer(0), 'I420 frame');
    this.sws = new SoftwareScaleContext();
    // Same size, RGB -> YUV only: SWS_POINT point-samples the 2:1 chroma (measured ~2 ms a 720p
    // frame against ~5 ms with SWS_BILINEAR). swscale's matrix is BT.601, limited range: what the
    // video encoder signals in its VUI.
    this.sws.getContext(width, height, srcFormat, width, height, AV_PIX_FMT_YUV420P, SWS_POINT);
    this.ring = Array.from({ length: OUTPUT_RING }, () => Buffer.alloc((width * height * 3) / 2));
  }

  /** Opens `display` at width x height from its top-left corner; rejects with the reason. */
  static async open(opts: X11CaptureOptions): Promise<X11Capture> {
    const { display, width, height, fps } = opts;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 2 || height < 2 || width % 2 || height % 2) {
      throw new Error(`x11 capture: the size must be even and positive, got ${width}x${height}`);
    }
    if (!(fps > 0)) throw new Error(`x11 capture: invalid fps ${fps}`);
    const format = InputFormat.findInputFormat('x11grab');
    if (!format) throw new Error('x11 capture: x11grab is not in this FFmpeg build');
    const fc = new FormatContext();
    // openInput copies the dictionary (it is ours to free).
    const options = Dictionary.fromObject({ video_size: `${width}x${height}`, framerate: String(fps), draw_mouse: opts.drawMouse ? '1' : '0' });
    let ret: number;
    try {
      ret = await fc.openInput(display, format, options);
    } finally {
      options.free();
    }
    if (ret < 0) {
      fc.freeContext();
      throw new Error(`x11 capture: cannot open display ${display} at ${width}x${height}: ${FFmpegError.strerror(ret)}`);
    }
    const decoder = new CodecContext();
    try {
      const par = fc.streams[0]?.codecpar;
      if (!par || par.width !== width || par.height !== height) {
        throw new Error(`x11 capture: display ${display} delivers ${par?.width}x${par?.height}, not ${width}x${height}`);
      }
      const codec = Codec.findDecoder(par.codecId);
      if (!codec) throw new Error(`x11 capture: no decoder for x11grab's codec ${par.codecId}`);
      decoder.allocContext3(codec);
      check(decoder.parametersToContext(par), 'x11 capture: decoder parameters');
      check(decoder.open2Sync(codec, null), 'x11 capture: open the rawvideo decoder');
      return new X11Capture(fc, decoder, width, height, par.format as AVPixelFormat);
    } catch (e) {
      decoder.freeContext();
      await fc.closeInput();
      throw e;
    }
  }

  /**
   * The next frame as packed I420 (waits until x11grab delivers it, at its pace), or null once
   * the capture is closed or the display ends. Throws on other capture errors.
   */
  async read(): Promise<Buffer | null> {
    if (!this.fc || this.closing) return null;
    if (this.reading) throw new Error('x11 capture: read() while another read() is pending');
    const fc = this.fc;
    const pkt = this.packet;
    // On the thread pool: x11grab sleeps there until the next frame is due.
    const reading = fc.readFrame(pkt);
    this.reading = reading;
    let ret: number;
    try {
      ret = await reading;
    } finally {
      this.reading = null;
    }
    if (this.closing || !this.fc) {
      if (ret >= 0) pkt.unref();
      return null;
    }
    if (ret === AVERROR_EOF || ret === AVERROR_EXIT) return null;
    if (ret < 0) throw new Error(`x11 capture: reading the display failed: ${FFmpegError.strerror(ret)}`);
    // Not `pkt.data`: node-av copies the whole packet into a new JS buffer there, which measured
    // 60+ ms for a 720p BGRA frame (GC pressure). The decoder wraps the packet in a frame instead
    // and swscale reads it natively: ~1.5 ms from packet to packed I420 at 720p.
    try {
      check(this.decoder.sendPacketSync(pkt), 'x11 capture: rawvideo packet');
      check(this.decoder.receiveFrameSync(this.grabbed), 'x11 capture: rawvideo frame');
      check(this.yuv.makeWritable(), 'x11 capture: I420 frame');
      check(this.sws.scaleFrameSync(this.yuv, this.grabbed), 'x11 capture: BGRA -> I420');
    } finally {
      this.grabbed.unref();
      pkt.unref();
    }
    const out = this.ring[this.ringIndex];
    this.ringIndex = (this.ringIndex + 1) % OUTPUT_RING;
    copyFrameOut(this.yuv, this.width, this.height, out);
    return out;
  }

  /** Stops capturing (a pending read() resolves null) and frees everything; idempotent. */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    const fc = this.fc;
    if (!fc) return;
    // Unblocks a read that waits for the next frame.
    fc.interrupt();
    await this.reading?.catch(() => undefined);
    this.fc = null;
    await fc.closeInput();
    this.decoder.freeContext();
    this.packet.free();
    this.grabbed.free();
    this.yuv.free();
    this.sws.freeContext();
  }
}

/** Copies a YUV420P frame's planes (rows may be padded) into packed I420. */
function copyFrameOut(frame: Frame, w: number, h: number, out: Buffer): void {
  const planes = frame.data;
  if (!planes) throw new Error('x11 capture: I420 frame has no planes');
  const ls = frame.linesize;
  const dst = i420Planes(out, w, h);
  const sizes: [number, number][] = [
    [w, h],
    [w / 2, h / 2],
    [w / 2, h / 2],
  ];
  for (let p = 0; p < 3; p++) {
    const [pw, ph] = sizes[p];
    if (ls[p] === pw) {
      planes[p].copy(dst[p], 0, 0, pw * ph);
    } else {
      for (let y = 0; y < ph; y++) planes[p].copy(dst[p], y * pw, y * ls[p], y * ls[p] + pw);
    }
  }
}

interface Scaler {
  sws: SoftwareScaleContext;
  ring: Buffer[];
  next: number;
}

/** Scalers by size pair; a handful at most (the rate controller's few scales). */
const scalers = new Map<string, Scaler>();
const MAX_SCALERS = 4;

/**
 * Resizes packed I420 (w x h) to dstW x dstH (all even) with swscale; the context is cached per
 * size pair and the returned buffer is reused (see the file comment).
 */
export function scaleI420(src: Buffer, w: number, h: number, dstW: number, dstH: number): Buffer {
  for (const [name, v] of [['w', w], ['h', h], ['dstW', dstW], ['dstH', dstH]] as const) {
    if (!Number.isInteger(v) || v < 2 || v % 2) throw new Error(`scaleI420: ${name} must be even and positive, got ${v}`);
  }
  if (src.length !== (w * h * 3) / 2) throw new Error(`scaleI420: expected ${(w * h * 3) / 2} bytes of I420 ${w}x${h}, got ${src.length}`);
  const key = `${w}x${h}>${dstW}x${dstH}`;
  let scaler = scalers.get(key);
  if (scaler) {
    // Most recently used last.
    scalers.delete(key);
  } else {
    const sws = new SoftwareScaleContext();
    sws.getContext(w, h, AV_PIX_FMT_YUV420P, dstW, dstH, AV_PIX_FMT_YUV420P, SWS_BILINEAR);
    scaler = { sws, ring: Array.from({ length: OUTPUT_RING }, () => Buffer.alloc((dstW * dstH * 3) / 2)), next: 0 };
    if (scalers.size >= MAX_SCALERS) {
      const [oldestKey, oldest] = scalers.entries().next().value as [string, Scaler];
      scalers.delete(oldestKey);
      oldest.sws.freeContext();
    }
  }
  scalers.set(key, scaler);
  const out = scaler.ring[scaler.next];
  scaler.next = (scaler.next + 1) % OUTPUT_RING;
  check(scaler.sws.scaleSync(i420Planes(src, w, h), [w, w / 2, w / 2], 0, h, i420Planes(out, dstW, dstH), [dstW, dstW / 2, dstW / 2]), 'scale I420');
  return out;
}

/** Y, U and V of a packed I420 buffer (views). */

