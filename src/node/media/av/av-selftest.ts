/**
 * Self-test of the node-av layer, run as a plain Node child (node-av does not load reliably inside
 * Jest's module registry); av.spec.ts runs it and asserts on what it prints.
 *
 *   TS_NODE_SKIP_PROJECT=true TS_NODE_COMPILER_OPTIONS='{"module":"commonjs","moduleResolution":"node","target":"ES2022","esModuleInterop":true}' \
 *     node -r ts-node/register/transpile-only src/node/media/av/av-selftest.ts <case> [<case> ...]
 *
 * Prints one JSON line per case: `{"case": <name>, ...results}` (or `{"case", "error"}`).
 * Cases: open content forced bitrate auto nvenc unknown probe opus scale x11=<display> measure bench.
 */
import { OpusEncoder } from './opus-encoder';
import { VideoEncoder, probeVideoEncoders, type EncodedVideo, type VideoEncoderName } from './video-encoder';
import { X11Capture, scaleI420 } from './x11-capture';

type Result = Record<string, unknown>;

// ------------------------------------------------------------------------------- helpers

/** NAL unit types of an Annex-B access unit (start codes 00 00 01 / 00 00 00 01). */
export function nalTypes(au: Buffer): number[] {
  const types: number[] = [];
  for (let i = 0; i + 3 < au.length; i++) {
    if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 1) {
      types.push(au[i + 3] & 0x1f);
      i += 3;
    }
  }
  return types;
}

function describeUnits(units: EncodedVideo[]): { keyframe: boolean; nals: number[]; bytes: number }[] {
  return units.map((u) => ({ keyframe: u.keyframe, nals: nalTypes(u.data), bytes: u.data.length }));
}

/** Deterministic xorshift32 noise. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** A flat mid-grey I420 frame. */
function grey(w: number, h: number, y = 128): Buffer {
  const b = Buffer.alloc((w * h * 3) / 2, 128);
  b.fill(y, 0, w * h);
  return b;
}

/**
 * "Busy" frames: a textured background that moves 3 px a frame plus fresh noise every frame
 * (the part no encoder can predict), so a 2.5 Mb/s target is saturated at 720p.
 */
function busyFrames(w: number, h: number, count: number, noise: number): Buffer[] {
  const next = rng(12345);
  const tex = Buffer.alloc(w * 2 * h);
  for (let i = 0; i < tex.length; i++) tex[i] = 64 + (next() % 128);
  const frames: Buffer[] = [];
  for (let f = 0; f < count; f++) {
    const b = Buffer.alloc((w * h * 3) / 2, 128);
    const shift = (f * 3) % w;
    for (let y = 0; y < h; y++) {
      const row = y * w;
      const trow = y * w * 2 + shift;
      for (let x = 0; x < w; x++) b[row + x] = tex[trow + x] + ((next() % (2 * noise + 1)) - noise);
    }
    for (let i = w * h; i < b.length; i++) b[i] = 128 + ((next() % 9) - 4);
    frames.push(b);
  }
  return frames;
}

/**
 * Screen-like frames: a static "desktop" of text-like blocks, a window a third of the screen
 * tall scrolling 4 px a frame, and a small animated square.
 */
function screenFrames(w: number, h: number, count: number): Buffer[] {
  const next = rng(777);
  const desk = Buffer.alloc(w * h * 2);
  for (let y = 0; y < h * 2; y++) {
    for (let x = 0; x < w; x++) {
      const glyph = (y % 16 < 11 && x % 8 < 6 && (next() & 3) !== 0) || x % 400 < 2;
      desk[y * w + x] = glyph ? 30 + (next() & 15) : 225;
    }
  }
  const frames: Buffer[] = [];
  const winTop = Math.floor(h / 3) & ~1;
  const winH = Math.floor(h / 3) & ~1;
  for (let f = 0; f < count; f++) {
    const b = Buffer.alloc((w * h * 3) / 2, 128);
    desk.copy(b, 0, 0, w * h);
    const scroll = (f * 4) % h;
    for (let y = 0; y < winH; y++) desk.copy(b, (winTop + y) * w, (y + scroll) * w, (y + scroll + 1) * w);
    const sq = 64;
    const sx = (f * 9) % (w - sq);
    for (let y = 0; y < sq; y++) b.fill((f * 5) & 255, (16 + y) * w + sx, (16 + y) * w + sx + sq);
    frames.push(b);
  }
  return frames;
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(s.length * p))] * 100) / 100;
}

function errorOf(fn: () => unknown): { error: string | null; ms: number } {
  const t = performance.now();
  try {
    fn();
    return { error: null, ms: performance.now() - t };
  } catch (e) {
    return { error: (e as Error).message, ms: Math.round((performance.now() - t) * 10) / 10 };
  }
}

const base = { fps: 30, bitrateKbps: 1000, gop: 300, encoder: 'libx264' as VideoEncoderName };

// --------------------------------------------------------------------------------- cases

const cases: Record<string, (arg?: string) => Promise<Result> | Result> = {
  /** Opens libx264; the first frame must be an IDR with SPS/PPS before it. */
  open() {
    const t = performance.now();
    const enc = VideoEncoder.open({ ...base, width: 320, height: 240 });
    const openMs = performance.now() - t;
    const first = describeUnits(enc.encode(grey(320, 240), false));
    const second = describeUnits(enc.encode(grey(320, 240, 130), false));
    enc.close();
    enc.close(); // idempotent
    let afterClose: string | null = null;
    try {
      enc.encode(grey(320, 240), false);
    } catch (e) {
      afterClose = (e as Error).message;
    }
    return { name: enc.name, width: enc.width, height: enc.height, openMs: Math.round(openMs * 10) / 10, first, second, afterClose };
  },

  /**
   * What is encoded is what was in the caller's buffer at encode() time: ten different pictures
   * through ONE reused buffer (as the sources hand frames over), scribbled over after each
   * encode() returns; each access unit decoded again (FFmpeg's h264) and compared with its picture.
   */
  async content() {
    const w = 320;
    const h = 240;
    const { Codec, CodecContext, Frame, Packet, AV_CODEC_ID_H264 } = await import('node-av');
    const enc = VideoEncoder.open({ ...base, width: w, height: h, bitrateKbps: 3000 });
    const dec = new CodecContext();
    const codec = Codec.findDecoder(AV_CODEC_ID_H264)!;
    dec.allocContext3(codec);
    if (dec.open2Sync(codec, null) < 0) throw new Error('h264 decoder did not open');
    const pkt = new Packet();
    pkt.alloc();
    const frame = new Frame();
    frame.alloc();
    const buf = Buffer.alloc((w * h * 3) / 2);
    const errors: number[] = [];
    for (let i = 0; i < 10; i++) {
      // A bright square moving across a gradient, in a different place each picture.
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) buf[y * w + x] = x >= i * 30 && x < i * 30 + 40 && y >= 100 && y < 140 ? 235 : 16 + ((x + y) >> 2);
      buf.fill(128, w * h);
      const expected = Buffer.from(buf.subarray(0, w * h));
      const units = enc.encode(buf, false);
      buf.fill(0); // the caller reuses its buffer: must not reach the picture
      for (const unit of units) {
        pkt.data = unit.data;
        if (dec.sendPacketSync(pkt) < 0) throw new Error('decoder refused an access unit');
        while (dec.receiveFrameSync(frame) >= 0) {
          const y = frame.data![0];
          const stride = frame.linesize[0];
          let sum = 0;
          for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) sum += Math.abs(y[r * stride + c] - expected[r * w + c]);
          errors.push(Math.round((sum / (w * h)) * 100) / 100);
          frame.unref();
        }
      }
    }
    enc.close();
    dec.freeContext();
    pkt.free();
    frame.free();
    return { meanAbsError: errors };
  },

  /** 30 frames of changing content; frame 10 forced: only frames 0 and 10 are IDRs. */
  forced() {
    const w = 320;
    const h = 240;
    const frames = busyFrames(w, h, 30, 4);
    const enc = VideoEncoder.open({ ...base, width: w, height: h, gop: 1000 });
    const out = frames.map((f, i) => ({ i, units: describeUnits(enc.encode(f, i === 10)) }));
    enc.close();
    return { frames: out };
  },

  /** 2500 kb/s for 2 s of busy 720p, then setBitrate(500): bytes per 1 s window. */
  bitrate() {
    const w = 1280;
    const h = 720;
    const fps = 30;
    const frames = busyFrames(w, h, 24, 24);
    const enc = VideoEncoder.open({ ...base, width: w, height: h, fps, bitrateKbps: 2500, gop: 1000 });
    const sizes: number[] = [];
    for (let i = 0; i < 4 * fps; i++) {
      if (i === 2 * fps) enc.setBitrate(500);
      const units = enc.encode(frames[i % frames.length], false);
      sizes.push(units.reduce((n, u) => n + u.data.length, 0));
    }
    enc.close();
    const kbps = (from: number) => Math.round((sizes.slice(from, from + fps).reduce((a, b) => a + b, 0) * 8) / 1000);
    return {
      fps,
      before: kbps(fps), // 2nd second at 2500
      after1: kbps(2 * fps), // 1st second after the change
      after2: kbps(3 * fps),
      framesAfterChange: sizes.slice(2 * fps - 2, 2 * fps + 8), maxAt500: Math.max(...sizes.slice(2 * fps + 5)), minAt500: Math.min(...sizes.slice(2 * fps + 5)), maxAt2500: Math.max(...sizes.slice(5, 2 * fps)), minAt2500: Math.min(...sizes.slice(5, 2 * fps)), idr: sizes[0],
    };
  },

  /** `auto` with no GPU: libx264 and one log line (a reopen logs nothing more). */
  auto() {
    const logs: string[] = [];
    const log = (level: string, message: string) => logs.push(`${level}: ${message}`);
    const t = performance.now();
    const enc = VideoEncoder.open({ ...base, width: 320, height: 240, encoder: 'auto', log });
    const openMs = performance.now() - t;
    const units = describeUnits(enc.encode(grey(320, 240), false));
    enc.close();
    const logsAfterFirst = [...logs];
    const t2 = performance.now();
    const again = VideoEncoder.open({ ...base, width: 160, height: 120, encoder: 'auto', log });
    const reopenMs = performance.now() - t2;
    again.close();
    return { name: enc.name, openMs: Math.round(openMs), reopenMs: Math.round(reopenMs), logsAfterFirst, logs, units };
  },

  /** Hardware encoders named explicitly: a clear error each (no GPU here). */
  nvenc() {
    return {
      h264_nvenc: errorOf(() => VideoEncoder.open({ ...base, width: 320, height: 240, encoder: 'h264_nvenc' }).close()),
      h264_vaapi: errorOf(() => VideoEncoder.open({ ...base, width: 320, height: 240, encoder: 'h264_vaapi' }).close()),
      h264_qsv: errorOf(() => VideoEncoder.open({ ...base, width: 320, height: 240, encoder: 'h264_qsv' }).close()),
    };
  },

  unknown() {
    return {
      unknown: errorOf(() => VideoEncoder.open({ ...base, width: 320, height: 240, encoder: 'h264_magic' as VideoEncoderName })),
      oddSize: errorOf(() => VideoEncoder.open({ ...base, width: 321, height: 240 })),
      wrongInput: errorOf(() => {
        const enc = VideoEncoder.open({ ...base, width: 320, height: 240 });
        try {
          enc.encode(Buffer.alloc(100), false);
        } finally {
          enc.close();
        }
      }),
    };
  },

  probe() {
    const t = performance.now();
    const first = probeVideoEncoders();
    const firstMs = performance.now() - t;
    const t2 = performance.now();
    probeVideoEncoders();
    const cachedMs = performance.now() - t2;
    return { probes: first, firstMs: Math.round(firstMs * 10) / 10, cachedMs: Math.round(cachedMs * 100) / 100 };
  },

  /** Opus: arbitrary chunk sizes in, floor(samples / 960) packets out. */
  opus() {
    const result: Result = {};
    for (const channels of [2, 1] as const) {
      const enc = OpusEncoder.open({ sampleRate: 48000, channels, bitrateKbps: 64 });
      const next = rng(99);
      const totalSamples = 48000 * 2 + 777;
      const pcm = Buffer.alloc(totalSamples * channels * 2);
      for (let i = 0; i < totalSamples; i++) {
        const v = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48000));
        for (let c = 0; c < channels; c++) pcm.writeInt16LE(v, (i * channels + c) * 2);
      }
      const packets: Buffer[] = [];
      let off = 0;
      const counts: number[] = [];
      while (off < pcm.length) {
        const samples = 1 + (next() % 1500);
        const end = Math.min(pcm.length, off + samples * channels * 2);
        packets.push(...enc.encode(pcm.subarray(off, end)));
        counts.push(packets.length);
        off = end;
      }
      const rest = enc.encode(Buffer.alloc(0));
      enc.close();
      enc.close();
      result[channels === 2 ? 'stereo' : 'mono'] = {
        samples: totalSamples,
        packets: packets.length + rest.length,
        tocs: [...new Set(packets.map((p) => p[0]))],
        meanBytes: Math.round(packets.reduce((n, p) => n + p.length, 0) / packets.length),
      };
    }
    result.badInput = errorOf(() => OpusEncoder.open({ sampleRate: 48000, channels: 2, bitrateKbps: 64 }).encode(Buffer.alloc(3)));
    return result;
  },

  /** scaleI420 halves a frame: a horizontal luma ramp stays a ramp, flat chroma stays flat. */
  scale() {
    const w = 320;
    const h = 240;
    const src = Buffer.alloc((w * h * 3) / 2);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) src[y * w + x] = Math.round((x * 255) / (w - 1));
    src.fill(100, w * h, (w * h * 5) / 4);
    src.fill(150, (w * h * 5) / 4);
    const t = performance.now();
    const a = scaleI420(src, w, h, w / 2, h / 2);
    const firstMs = performance.now() - t;
    const t2 = performance.now();
    const b = scaleI420(src, w, h, w / 2, h / 2);
    const againMs = performance.now() - t2;
    const dw = w / 2;
    const dh = h / 2;
    const row = 60 * dw;
    const big = Buffer.alloc((1280 * 720 * 3) / 2, 77);
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const s = performance.now();
      scaleI420(big, 1280, 720, 640, 360);
      times.push(performance.now() - s);
    }
    return {
      length: a.length,
      expected: (dw * dh * 3) / 2,
      distinctBuffers: a !== b,
      yLeft: a[row + 2],
      yMid: a[row + dw / 2],
      yRight: a[row + dw - 3],
      u: a[dw * dh + 10],
      v: a[(dw * dh * 5) / 4 + 10],
      firstMs: Math.round(firstMs * 100) / 100,
      againMs: Math.round(againMs * 100) / 100,
      p50Ms720to360: percentile(times, 0.5),
      bad: errorOf(() => scaleI420(Buffer.alloc(10), w, h, dw, dh)),
    };
  },

  /** x11grab from a running X server (the spec starts Xvfb 320x240x24). */
  async x11(display?: string) {
    if (!display) throw new Error('x11 needs a display: x11=:N');
    const w = 320;
    const h = 240;
    const t = performance.now();
    const cap = await X11Capture.open({ display, width: w, height: h, fps: 30 });
    const openMs = performance.now() - t;
    const frames: { bytes: number; y: number; u: number; v: number; gapMs: number }[] = [];
    let last = performance.now();
    for (let i = 0; i < 8; i++) {
      const f = await cap.read();
      const now = performance.now();
      if (!f) break;
      const mean = (from: number, to: number) => Math.round(f.subarray(from, to).reduce((a, b) => a + b, 0) / (to - from));
      frames.push({ bytes: f.length, y: mean(0, w * h), u: mean(w * h, (w * h * 5) / 4), v: mean((w * h * 5) / 4, (w * h * 3) / 2), gapMs: Math.round(now - last) });
      last = now;
    }
    // Encode what was captured, as the media process does.
    const enc = VideoEncoder.open({ ...base, width: w, height: h });
    const frame = await cap.read();
    const units = frame ? describeUnits(enc.encode(frame, false)) : [];
    enc.close();
    const pending = cap.read();
    await cap.close();
    const afterClose = await pending;
    const readAfterClose = await cap.read();
    await cap.close();
    const bad = await X11Capture.open({ display: ':12345', width: w, height: h, fps: 30 }).then(
      () => null,
      (e: Error) => e.message,
    );
    return { openMs: Math.round(openMs), expectedBytes: (w * h * 3) / 2, frames, units, afterClose, readAfterClose, bad };
  },

  /** The numbers av.spec.ts prints: libx264 open time and 720p encode time (default settings). */
  measure() {
    const opens: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t = performance.now();
      VideoEncoder.open({ ...base, width: 1280, height: 720, bitrateKbps: 2500 }).close();
      opens.push(performance.now() - t);
    }
    const frames = screenFrames(1280, 720, 20);
    const enc = VideoEncoder.open({ ...base, width: 1280, height: 720, bitrateKbps: 2500 });
    const times: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t = performance.now();
      enc.encode(frames[i % frames.length], i === 50);
      if (i >= 5) times.push(performance.now() - t);
    }
    enc.close();
    return { openMsFirst: Math.round(opens[0] * 10) / 10, openMsP50: percentile(opens.slice(1), 0.5), encode720P50: percentile(times, 0.5), encode720P90: percentile(times, 0.9) };
  },

  /** Numbers to print, not assert: open time, 720p/1080p encode p50 by threads, sync vs async. */
  async bench() {
    const opens: number[] = [];
    for (let i = 0; i < 8; i++) {
      const t = performance.now();
      VideoEncoder.open({ ...base, width: 1280, height: 720, bitrateKbps: 2500 }).close();
      opens.push(performance.now() - t);
    }
    const encodeP = (w: number, h: number, threads: number | undefined, frames: Buffer[]) => {
      const enc = VideoEncoder.open({ ...base, width: w, height: h, bitrateKbps: 2500, threads });
      const times: number[] = [];
      let bytes = 0;
      for (let i = 0; i < 150; i++) {
        const t = performance.now();
        const units = enc.encode(frames[i % frames.length], false);
        if (i >= 10) times.push(performance.now() - t);
        bytes += units.reduce((n, u) => n + u.data.length, 0);
      }
      enc.close();
      return { p50: percentile(times, 0.5), p90: percentile(times, 0.9), kbps: Math.round((bytes * 8 * 30) / 150 / 1000) };
    };
    const screen720 = screenFrames(1280, 720, 30);
    const busy720 = busyFrames(1280, 720, 12, 6);
    const screen1080 = screenFrames(1920, 1080, 20);
    const result: Result = { openMsP50: percentile(opens.slice(1), 0.5), openMsFirst: Math.round(opens[0] * 10) / 10 };
    // Interleaved rounds so a noisy neighbour hurts every setting alike.
    for (let round = 0; round < 2; round++) {
      for (const [label, w, h, frames] of [
        ['screen720', 1280, 720, screen720],
        ['busy720', 1280, 720, busy720],
        ['screen1080', 1920, 1080, screen1080],
      ] as const) {
        for (const threads of [1, 2, 0, undefined]) {
          const key = `${label}.threads=${threads ?? 'default'}`;
          const r = encodeP(w, h, threads, frames as Buffer[]);
          const prev = result[key] as { p50: number; p90: number; kbps: number }[] | undefined;
          result[key] = [...(prev ?? []), r];
        }
      }
    }
    result.syncVsAsync720 = await syncVsAsync(screen720);
    return result;
  },
};

/** The same libx264 settings driven through the async (thread-pool) calls, for comparison. */
async function syncVsAsync(frames: Buffer[]): Promise<Result> {
  const av = await import('node-av');
  const { Codec, CodecContext, Frame, Packet, Rational } = av;
  const C = av;
  const run = async (useAsync: boolean) => {
    const codec = Codec.findEncoderByName(C.FF_ENCODER_LIBX264)!;
    const ctx = new CodecContext();
    ctx.allocContext3(codec);
    ctx.width = 1280;
    ctx.height = 720;
    ctx.pixelFormat = C.AV_PIX_FMT_YUV420P;
    ctx.timeBase = new Rational(1, 30);
    ctx.bitRate = 2_500_000n;
    ctx.threadCount = 1;
    for (const [k, v] of Object.entries({ preset: 'ultrafast', tune: 'zerolatency', profile: 'baseline' })) ctx.setOption(k, v, C.AV_OPT_TYPE_STRING);
    ctx.open2Sync(codec, null);
    const frame = new Frame();
    frame.alloc();
    frame.format = C.AV_PIX_FMT_YUV420P;
    frame.width = 1280;
    frame.height = 720;
    frame.getBuffer(0);
    const pkt = new Packet();
    pkt.alloc();
    const times: number[] = [];
    for (let i = 0; i < 120; i++) {
      frame.makeWritable();
      frames[i % frames.length].copy(frame.data![0], 0, 0, 1280 * 720);
      frame.pts = BigInt(i);
      const t = performance.now();
      if (useAsync) {
        await ctx.sendFrame(frame);
        while ((await ctx.receivePacket(pkt)) >= 0) pkt.unref();
      } else {
        ctx.sendFrameSync(frame);
        while (ctx.receivePacketSync(pkt) >= 0) pkt.unref();
      }
      if (i >= 10) times.push(performance.now() - t);
    }
    ctx.freeContext();
    frame.free();
    pkt.free();
    return { p50: percentile(times, 0.5), p90: percentile(times, 0.9) };
  };
  const sync1 = await run(false);
  const async1 = await run(true);
  const sync2 = await run(false);
  const async2 = await run(true);
  return { sync: [sync1, sync2], async: [async1, async2] };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.length === 0) {
    process.stderr.write(`usage: av-selftest <case> ... (cases: ${Object.keys(cases).join(', ')}; x11=<display>)\n`);
    process.exit(2);
  }
  for (const spec of args) {
    const [name, arg] = spec.split('=', 2);
    const fn = cases[name];
    let result: Result;
    if (!fn) {
      result = { error: `unknown case ${name}` };
    } else {
      try {
        result = await fn(arg);
      } catch (e) {
        result = { error: (e as Error).stack ?? String(e) };
      }
    }
    process.stdout.write(`${JSON.stringify({ case: name, ...result })}\n`);
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`${(e as Error).stack}\n`);
      process.exit(1);
    },
  );
}
