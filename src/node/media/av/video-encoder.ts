/**
 * H.264 for WebRTC, encoded in-process with node-av's low-level API (FFmpeg's libavcodec through
 * N-API). The high-level `Encoder` of node-av clears `pict_type`, which is how a keyframe is
 * forced here, so this file drives `CodecContext` directly.
 *
 * Every call on the media path is synchronous (`sendFrameSync` / `receivePacketSync`): the async
 * variants measured the same (~3 ms p50 a 720p frame either way), so the thread-pool hop buys
 * nothing, and `encode` can return this frame's access unit directly. The cost is the encode time
 * on the event loop (~10% of it at 720p30).
 *
 * node-av pitfalls handled here (node-av 6.1.1):
 * - `open2(codec, dict)` frees the dictionary natively, leaving the JS wrapper dangling (touching it
 *   afterwards crashes the process): options are set with `setOption` before `open2` instead.
 * - `Frame.fromBuffer` points the frame's planes INTO the JS buffer (no copy, no reference): a
 *   frame an encoder keeps (QSV, NVENC surfaces) would then read memory the caller reuses. Only
 *   libx264, which copies its input within `sendFrame`, gets the caller's buffer that way; the
 *   others get the planes copied into the frame's own buffers.
 * - `Packet.data` is a copy cached on the packet in 6.1.1 but was a view of the packet's memory in
 *   earlier versions: it is copied once more (a few µs) so an EncodedVideo owns its bytes anyway.
 */
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
// From the package root, not 'node-av/lib' + 'node-av/constants': the repo's tsconfig resolves
// modules the node10 way, which does not read package.json "exports", so the subpaths have no
// types there (the root's "types" field works everywhere). At run time it is one require either way.
import {
  AV_HWDEVICE_TYPE_VAAPI,
  AV_LOG_QUIET,
  AV_OPT_TYPE_STRING,
  AV_PICTURE_TYPE_I,
  AV_PICTURE_TYPE_NONE,
  AV_PIX_FMT_NV12,
  AV_PIX_FMT_VAAPI,
  AV_PIX_FMT_YUV420P,
  AV_PKT_FLAG_KEY,
  AVCOL_RANGE_MPEG,
  AVCOL_SPC_SMPTE170M,
  AVERROR_EAGAIN,
  AVERROR_EOF,
  Codec,
  CodecContext,
  FF_ENCODER_H264_NVENC,
  FF_ENCODER_H264_QSV,
  FF_ENCODER_H264_VAAPI,
  FF_ENCODER_LIBX264,
  FFmpegError,
  Frame,
  HardwareDeviceContext,
  HardwareFramesContext,
  Log,
  Packet,
  Rational,
  SoftwareScaleContext,
  SWS_POINT,
  type AVPixelFormat,
  type FFVideoEncoder,
} from 'node-av';
import { check, i420Planes } from './av-util';

export type VideoEncoderName = 'auto' | 'libx264' | 'h264_nvenc' | 'h264_vaapi' | 'h264_qsv';
type ConcreteEncoder = Exclude<VideoEncoderName, 'auto'>;

export interface VideoEncoderOptions {
  width: number;
  height: number;
  fps: number;
  bitrateKbps: number;
  /** Frames between periodic IDRs. */
  gop: number;
  encoder: VideoEncoderName;
  log?: (level: 'info' | 'warn', message: string) => void;
  /** libx264 threads instead of the built-in choice (benchmarks); 0 = x264's auto. */
  threads?: number;
}

export interface EncodedVideo {
  /** One Annex-B access unit; SPS and PPS come in-band before every IDR. */
  data: Buffer;
  keyframe: boolean;
}

export interface VideoEncoderProbe {
  name: VideoEncoderName;
  available: boolean;
  reason?: string;
}

/** The order `auto` tries: NVIDIA, then Intel's QSV, then VAAPI (Intel/AMD), then software. */
const HARDWARE_ORDER: readonly ConcreteEncoder[] = ['h264_nvenc', 'h264_qsv', 'h264_vaapi'];
const ALL_ENCODERS: readonly ConcreteEncoder[] = ['libx264', ...HARDWARE_ORDER];
const CODEC_NAMES: Record<ConcreteEncoder, FFVideoEncoder> = {
  libx264: FF_ENCODER_LIBX264,
  h264_nvenc: FF_ENCODER_H264_NVENC,
  h264_qsv: FF_ENCODER_H264_QSV,
  h264_vaapi: FF_ENCODER_H264_VAAPI,
};

/**
 * Probe size. Small so a probe is cheap, but not 64x64: NVENC refuses H.264 frames under
 * 145x145 on current GPUs ("Frame Dimension less than the minimum supported value"), which
 * would make a working GPU look absent.
 */
const PROBE_WIDTH = 320;
const PROBE_HEIGHT = 240;

/**
 * libx264 threads. With tune=zerolatency, threads > 1 are sliced threads: each frame is cut into
 * that many slices encoded in parallel, which adds no frame of delay (frame threads would).
 * Measured on the shared 2-CPU box under load (8 rounds of 115 screen-like frames, median of the
 * rounds): 720p 1 thread p50 5.1 / p90 11.6 ms, 2 threads 3.7 / 7.0 ms; 1080p 14.7 / 27.5 ms
 * against 8.7 / 19.4 ms; the same CPU time per frame (~4.5 ms at 720p) either way. On an idle
 * box 720p was ~3 ms p50 both ways. So slices, one per core, at most 4 (x264's auto would make
 * one per core of a big host: dozens of thin slices cost compression for nothing).
 */
export const X264_THREADS = Math.max(1, Math.min(4, availableParallelism()));

/**
 * VBV: the peak rate is the target (`rc_max_rate = bit_rate`) and the buffer holds VBV_FRAMES
 * frames' worth of bits, so no frame (an IDR included) takes more than VBV_FRAMES frame
 * intervals to send at the target rate. Measured with a busy 720p source going 2500 -> 500 kb/s
 * (av-selftest `bitrate`): 1 frame (the classic zero-latency buffer) starves IDRs and
 * undershoots (~330 kb/s); 2 oscillates between near-empty and full frames; 3-4 land within
 * ~10% of 500 in the first second with steadier frames; 15 (0.5 s) still sends ~680 kb/s in
 * that second. 3: the smallest buffer that holds the rate well, ~100 ms of worst-case burst at
 * 30 fps.
 */
const VBV_FRAMES = 3;

type LogFn = (level: 'info' | 'warn', message: string) => void;

/** Probe results of this process, by encoder name. */
const probeCache = new Map<ConcreteEncoder, { available: boolean; reason?: string }>();
/** The last line `auto` logged: a reopen that decides the same way stays quiet. */
let lastAutoLine: string | null = null;

export class VideoEncoder {
  readonly name: string;
  readonly width: number;
  readonly height: number;

  private ctx: CodecContext | null;
  /** The software frame: YUV420P (libx264, NVENC) or NV12 (QSV, VAAPI's upload source). */
  private readonly frame: Frame;
  private readonly packet: Packet;
  private readonly hw: HardwareResources | null;
  /** I420 -> NV12 for QSV and VAAPI. */
  private readonly toNv12: SoftwareScaleContext | null;
  private readonly fps: number;
  private pts = 0;

  private constructor(name: ConcreteEncoder, opts: VideoEncoderOptions, parts: OpenedParts) {
    this.name = name;
    this.width = opts.width;
    this.height = opts.height;
    this.fps = opts.fps;
    this.ctx = parts.ctx;
    this.frame = parts.frame;
    this.packet = parts.packet;
    this.hw = parts.hw;
    this.toNv12 = parts.toNv12;
  }

  /**
   * Opens the named encoder, or for `auto` the first hardware encoder that opens (probes are
   * cached per process), else libx264 with one log line saying why. Throws when a named encoder
   * cannot be opened ("video encoder <name> cannot be opened: <reason>") or the name is unknown.
   */
  static open(opts: VideoEncoderOptions): VideoEncoder {
    validate(opts);
    const log = opts.log;
    if (opts.encoder !== 'auto') {
      const result = tryOpen(opts.encoder, opts);
      if ('error' in result) throw new Error(`video encoder ${opts.encoder} cannot be opened: ${result.error}`);
      return new VideoEncoder(opts.encoder, opts, result);
    }
    const skipped: string[] = [];
    for (const name of HARDWARE_ORDER) {
      const probe = probeOne(name);
      if (!probe.available) {
        skipped.push(`${name}: ${probe.reason}`);
        continue;
      }
      const result = tryOpen(name, opts);
      if ('error' in result) {
        skipped.push(`${name}: ${result.error}`);
        continue;
      }
      logAuto(log, `video encoder: using ${name} (hardware)`);
      return new VideoEncoder(name, opts, result);
    }
    const result = tryOpen('libx264', opts);
    if ('error' in result) throw new Error(`video encoder libx264 cannot be opened: ${result.error} (hardware: ${skipped.join('; ')})`);
    logAuto(log, `video encoder: no hardware encoder (${skipped.join('; ')}); using libx264`);
    return new VideoEncoder('libx264', opts, result);
  }

  /**
   * Encodes one packed I420 frame (Y, then U, then V; width x height). Zero-latency settings:
   * normally returns exactly this frame's access unit. `forceKeyframe` makes this frame an IDR
   * (with SPS/PPS before it).
   */
  encode(i420: Buffer, forceKeyframe: boolean): EncodedVideo[] {
    const ctx = this.ctx;
    if (!ctx) throw new Error('video encoder is closed');
    const { width: w, height: h } = this;
    if (i420.length !== (w * h * 3) / 2) throw new Error(`video encoder ${this.name}: expected ${(w * h * 3) / 2} bytes of I420 ${w}x${h}, got ${i420.length}`);

    if (this.name === 'libx264') {
      // libx264 copies the picture inside sendFrame, before it returns: the frame can point
      // into the caller's buffer (fromBuffer aliases in node-av 6.1.1) for that call. No copy,
      // and no per-frame plane views (external buffers, which pace V8's major GCs).
      check(this.frame.fromBuffer(i420), 'I420 frame');
    } else if (this.toNv12) {
      check(this.frame.makeWritable(), 'frame not writable');
      const planes = this.frame.data;
      if (!planes) throw new Error('frame has no planes');
      const ls = this.frame.linesize;
      check(this.toNv12.scaleSync(i420Planes(i420, w, h), [w, w / 2, w / 2], 0, h, [planes[0], planes[1]], [ls[0], ls[1]]), 'I420 -> NV12');
    } else {
      check(this.frame.makeWritable(), 'frame not writable');
      copyI420IntoFrame(i420, w, h, this.frame);
    }

    let input = this.frame;
    if (this.hw) {
      // VAAPI: a surface from the pool, filled from the NV12 frame.
      input = this.hw.surface;
      input.unref();
      check(this.hw.frames.getBuffer(input, 0), 'VAAPI surface');
      check(this.hw.frames.transferDataSync(input, this.frame), 'VAAPI upload');
    }
    input.pts = BigInt(this.pts++);
    input.pictType = forceKeyframe ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;

    const out: EncodedVideo[] = [];
    let ret = ctx.sendFrameSync(input);
    if (ret === AVERROR_EAGAIN) {
      // The encoder holds output back (not expected with these settings): drain, then retry.
      this.drain(out);
      ret = ctx.sendFrameSync(input);
    }
    if (this.hw) input.unref();
    check(ret, 'send frame');
    this.drain(out);
    return out;
  }

  /**
   * New target from the next frame on: average = peak = kbps, VBV buffer VBV_FRAMES frames' worth
   * (it bites within a few frames: see VBV_FRAMES).
   * libx264, NVENC and QSV reconfigure on the fly; FFmpeg's VAAPI encoder keeps its opening rate.
   */
  setBitrate(kbps: number): void {
    if (!this.ctx) return;
    if (!(kbps > 0)) throw new Error(`invalid bitrate ${kbps} kb/s`);
    applyRate(this.ctx, kbps, this.fps);
  }

  /** Frees the native resources; idempotent. Packets still pending in the encoder are dropped. */
  close(): void {
    const ctx = this.ctx;
    if (!ctx) return;
    this.ctx = null;
    freeParts({ ctx, frame: this.frame, packet: this.packet, hw: this.hw, toNv12: this.toNv12 });
  }

  private drain(out: EncodedVideo[]): void {
    const ctx = this.ctx!;
    const pkt = this.packet;
    for (;;) {
      const ret = ctx.receivePacketSync(pkt);
      if (ret === AVERROR_EAGAIN || ret === AVERROR_EOF) return;
      check(ret, 'receive packet');
      const data = pkt.data;
      // Our own copy whatever node-av's version returns (see the file comment).
      if (data && data.length > 0) out.push({ data: Buffer.from(data), keyframe: (pkt.flags & AV_PKT_FLAG_KEY) !== 0 });
      pkt.unref();
    }
  }
}

/**
 * Pays ahead of need what opening `name` and its first frame cost in a fresh process: `auto`'s
 * probes (cached per process), the encoder's code and tables touched, a first frame (several
 * times the cost of a later one) encoded and thrown away. A spare media process calls it while it
 * waits for its instance: 20-80 ms less to an instance's start on a loaded node. Quiet: a failure
 * is the real open's to report.
 */
export function warmUpEncoder(name: VideoEncoderName): void {
  quietly(() => {
    let encoder: VideoEncoder | null = null;
    try {
      encoder = VideoEncoder.open(probeOptions(name));
      encoder.encode(Buffer.alloc((PROBE_WIDTH * PROBE_HEIGHT * 3) / 2), true);
    } catch {
      // The instance's own open fails the same way, and says so.
    } finally {
      encoder?.close();
    }
  });
}

/**
 * Which encoders open here (a PROBE_WIDTH x PROBE_HEIGHT context, opened and freed; cached per
 * process). libx264 first, then the hardware encoders in the order `auto` tries them.
 */
export function probeVideoEncoders(): VideoEncoderProbe[] {
  return ALL_ENCODERS.map((name) => ({ name, ...probeOne(name) }));
}

// ---------------------------------------------------------------------------------- internals

interface HardwareResources {
  device: HardwareDeviceContext;
  frames: HardwareFramesContext;
  surface: Frame;
}

interface OpenedParts {
  ctx: CodecContext;
  frame: Frame;
  packet: Packet;
  hw: HardwareResources | null;
  toNv12: SoftwareScaleContext | null;
}

function validate(opts: VideoEncoderOptions): void {
  if (!(ALL_ENCODERS as readonly string[]).includes(opts.encoder) && opts.encoder !== 'auto') {
    throw new Error(`unknown video encoder ${JSON.stringify(opts.encoder)} (known: auto, ${ALL_ENCODERS.join(', ')})`);
  }
  const { width, height, fps, bitrateKbps, gop } = opts;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 2 || height < 2 || width % 2 || height % 2) {
    throw new Error(`video encoder: the size must be even and positive, got ${width}x${height}`);
  }
  if (!(fps > 0) || !Number.isInteger(fps)) throw new Error(`video encoder: invalid fps ${fps}`);
  if (!(bitrateKbps > 0)) throw new Error(`video encoder: invalid bitrate ${bitrateKbps} kb/s`);
  if (!Number.isInteger(gop) || gop < 1) throw new Error(`video encoder: invalid gop ${gop}`);
}

/** A PROBE_WIDTH x PROBE_HEIGHT context of `encoder`: what probes and warm-ups open. */
const probeOptions = (encoder: VideoEncoderName): VideoEncoderOptions => ({ width: PROBE_WIDTH, height: PROBE_HEIGHT, fps: 30, bitrateKbps: 500, gop: 60, encoder });

/** Runs `fn` with FFmpeg's log silenced, then restores its level. */
function quietly<T>(fn: () => T): T {
  const level = Log.getLevel();
  Log.setLevel(AV_LOG_QUIET);
  try {
    return fn();
  } finally {
    Log.setLevel(level);
  }
}

function logAuto(log: LogFn | undefined, line: string): void {
  if (!log || line === lastAutoLine) return; // (a quiet open must not silence the next one)
  lastAutoLine = line;
  log('info', line);
}

function probeOne(name: ConcreteEncoder): { available: boolean; reason?: string } {
  const cached = probeCache.get(name);
  if (cached) return cached;
  // FFmpeg's own complaints ("Cannot load libcuda.so.1", ...) would go to stderr: the reason is
  // reported by the caller instead.
  const result = quietly((): { available: boolean; reason?: string } => {
    const opened = tryOpen(name, probeOptions(name));
    if ('error' in opened) return { available: false, reason: opened.error };
    freeParts(opened);
    return { available: true };
  });
  probeCache.set(name, result);
  return result;
}

/** Opens `name` at the options' size; on failure everything allocated is freed again. */
function tryOpen(name: ConcreteEncoder, opts: VideoEncoderOptions): OpenedParts | { error: string } {
  const codec = Codec.findEncoderByName(CODEC_NAMES[name]);
  if (!codec) return { error: 'not in this FFmpeg build' };
  const ctx = new CodecContext();
  const frame = new Frame();
  const packet = new Packet();
  let hw: HardwareResources | null = null;
  let toNv12: SoftwareScaleContext | null = null;
  const fail = (error: string): { error: string } => {
    freeParts({ ctx, frame, packet, hw, toNv12 });
    return { error };
  };
  try {
    ctx.allocContext3(codec);
    const { width, height, fps } = opts;
    ctx.width = width;
    ctx.height = height;
    ctx.timeBase = new Rational(1, fps);
    ctx.framerate = new Rational(fps, 1);
    ctx.gopSize = opts.gop;
    ctx.maxBFrames = 0;
    // swscale's BGRA -> YUV420P (x11-capture) is BT.601, limited range: say so in the VUI.
    ctx.colorSpace = AVCOL_SPC_SMPTE170M;
    ctx.colorRange = AVCOL_RANGE_MPEG;
    applyRate(ctx, opts.bitrateKbps, fps);

    let swFormat: AVPixelFormat = AV_PIX_FMT_YUV420P;
    switch (name) {
      case 'libx264':
        ctx.pixelFormat = AV_PIX_FMT_YUV420P;
        ctx.threadCount = opts.threads ?? X264_THREADS;
        setOptions(ctx, {
          preset: 'ultrafast',
          // zerolatency: no lookahead, no B-frames, sliced (not frame) threads, no sync-lookahead.
          tune: 'zerolatency',
          // Chrome's offer: profile-level-id 42e01f (constrained baseline).
          profile: 'baseline',
          // Every forced I frame is an IDR (a joining browser can start there).
          'forced-idr': '1',
          // No scene-cut I frames: keyframes only when asked for and every `gop` frames.
          // repeat-headers: SPS/PPS before every IDR (also what no GLOBAL_HEADER flag gives).
          'x264-params': 'scenecut=0:repeat-headers=1',
        });
        break;
      case 'h264_nvenc':
        ctx.pixelFormat = AV_PIX_FMT_YUV420P;
        setOptions(ctx, {
          preset: 'p1',
          tune: 'ull',
          profile: 'baseline',
          rc: 'cbr',
          zerolatency: '1',
          delay: '0',
          'rc-lookahead': '0',
          'no-scenecut': '1',
          'forced-idr': '1',
        });
        break;
      case 'h264_qsv':
        // System-memory NV12: the encoder uploads it to its own session.
        ctx.pixelFormat = AV_PIX_FMT_NV12;
        swFormat = AV_PIX_FMT_NV12;
        setOptions(ctx, { preset: 'veryfast', profile: 'baseline', async_depth: '1', look_ahead: '0', low_delay_brc: '1', forced_idr: '1' });
        break;
      case 'h264_vaapi': {
        swFormat = AV_PIX_FMT_NV12;
        hw = openVaapi(width, height);
        ctx.pixelFormat = AV_PIX_FMT_VAAPI;
        ctx.hwDeviceCtx = hw.device;
        ctx.hwFramesCtx = hw.frames;
        setOptions(ctx, { profile: 'constrained_baseline', rc_mode: 'CBR', async_depth: '1' });
        break;
      }
    }

    const ret = ctx.open2Sync(codec, null);
    if (ret < 0) return fail(describe(name, ret));

    frame.alloc();
    frame.format = swFormat;
    frame.width = width;
    frame.height = height;
    check(frame.getBuffer(0), 'frame buffer');
    packet.alloc();
    if (swFormat === AV_PIX_FMT_NV12) {
      toNv12 = new SoftwareScaleContext();
      // Same size, chroma only re-interleaved: the cheapest filter is exact here.
      toNv12.getContext(width, height, AV_PIX_FMT_YUV420P, width, height, AV_PIX_FMT_NV12, SWS_POINT);
    }
    return { ctx, frame, packet, hw, toNv12 };
  } catch (e) {
    return fail((e as Error).message);
  }
}

function applyRate(ctx: CodecContext, kbps: number, fps: number): void {
  const bps = Math.round(kbps * 1000);
  ctx.bitRate = BigInt(bps);
  ctx.rcMaxRate = BigInt(bps);
  ctx.rcBufferSize = Math.round((bps * VBV_FRAMES) / fps);
}

function setOptions(ctx: CodecContext, options: Record<string, string>): void {
  for (const [key, value] of Object.entries(options)) {
    // As strings: av_opt_set parses named constants ('ull', 'CBR', ...) itself.
    const ret = ctx.setOption(key, value, AV_OPT_TYPE_STRING);
    if (ret < 0) throw new Error(`option ${key}=${value}: ${FFmpegError.strerror(ret)}`);
  }
}

/** A VAAPI device on the first render node and an NV12 surface pool of the encoder's size. */
function openVaapi(width: number, height: number): HardwareResources {
  const node = renderNodes()[0] ?? null;
  const device = new HardwareDeviceContext();
  const ret = device.create(AV_HWDEVICE_TYPE_VAAPI, node, null);
  if (ret < 0) {
    device.free();
    throw new Error(`no VAAPI device (${node ?? 'no /dev/dri/renderD* node'}): ${FFmpegError.strerror(ret)}`);
  }
  const frames = new HardwareFramesContext();
  const surface = new Frame();
  try {
    frames.alloc(device);
    frames.format = AV_PIX_FMT_VAAPI;
    frames.swFormat = AV_PIX_FMT_NV12;
    frames.width = width;
    frames.height = height;
    check(frames.init(), 'VAAPI surface pool');
    surface.alloc();
    return { device, frames, surface };
  } catch (e) {
    freeHardware({ device, frames, surface });
    throw e;
  }
}

/** The codec context first (it holds references to the hardware contexts), then the rest. */
function freeParts(parts: OpenedParts): void {
  parts.ctx.freeContext();
  parts.frame.free();
  parts.packet.free();
  parts.toNv12?.freeContext();
  freeHardware(parts.hw);
}

function freeHardware(hw: HardwareResources | null): void {
  if (!hw) return;
  hw.surface.free();
  hw.frames.free();
  hw.device.free();
}

function renderNodes(): string[] {
  try {
    return readdirSync('/dev/dri')
      .filter((n) => n.startsWith('renderD'))
      .sort()
      .map((n) => `/dev/dri/${n}`);
  } catch {
    return [];
  }
}

/** The FFmpeg error plus what is missing on this machine, if that is visible from here. */
function describe(name: ConcreteEncoder, code: number): string {
  const error = FFmpegError.strerror(code);
  if (name === 'h264_nvenc' && !existsSync('/dev/nvidiactl') && !existsSync('/dev/dxg')) return `${error} (no NVIDIA device: /dev/nvidiactl is missing)`;
  if ((name === 'h264_qsv' || name === 'h264_vaapi') && renderNodes().length === 0) return `${error} (no /dev/dri/renderD* node)`;
  return error;
}



/** Copies packed I420 into a YUV420P frame's own planes (their rows may be padded). */
function copyI420IntoFrame(i420: Buffer, w: number, h: number, frame: Frame): void {
  const planes = frame.data;
  if (!planes) throw new Error('frame has no planes');
  const ls = frame.linesize;
  const src = i420Planes(i420, w, h);
  copyPlane(src[0], w, h, planes[0], ls[0]);
  copyPlane(src[1], w / 2, h / 2, planes[1], ls[1]);
  copyPlane(src[2], w / 2, h / 2, planes[2], ls[2]);
}

function copyPlane(src: Buffer, w: number, h: number, dst: Buffer, stride: number): void {
  if (stride === w) {
    src.copy(dst, 0, 0, w * h);
    return;
  }
  for (let y = 0; y < h; y++) src.copy(dst, y * stride, y * w, y * w + w);
}
