/**
 * CPU and memory per 720p30 stream on the stack's side, against ffmpeg alone encoding the same
 * kind of frames, and how many such streams this node sustains.
 *
 * Two pairs, video only and video + audio (as the SDK connects: speakers on), each in rounds of a
 * baseline then the stack, alternating in the same run; a pair's numbers are the rounds' means.
 *
 * Baseline: a test-pattern frame source (the one instances use) at 1280x720@30; this process reads
 * its frames as the media process does (frame-wire.ts) and pipes the I420 pictures, as they come
 * (30 fps), into the ffmpeg CLI:
 *   ffmpeg -f rawvideo -pix_fmt yuv420p -s 1280x720 -r 30 -i pipe:0 -c:v libx264 -preset ultrafast
 *          -tune zerolatency -profile:v baseline -b:v 3M -threads N -f h264 pipe:1
 * (`-threads N`: as many (sliced) threads as the media engine's libx264, X264_THREADS; `-f h264 pipe:1` instead of
 * `-f null -` only so that its bitrate can be counted). With audio, the frame source's PCM goes to
 * a second input (`-f s16le -ar 48000 -ac 2 -i pipe:3`), encoded as the media engine does
 * (`-c:a libopus -b:a 64k -application lowdelay -frame_duration 20`), both muxed to `-f nut pipe:1`.
 * ffmpeg's CPU comes from /proc/<pid>/stat over a fixed window after a warm-up.
 *
 * Stack: a session (`POST /1.0/sessions`) watched by the test client in Chromium (`enable_speaker:
 * false` for the video-only pair); the same window over the instance's processes: its media process
 * (read, libx264 (+ Opus), RTP/SRTP, rate control) and its frame source (the "application", which
 * the baseline has too). Ratio = media process / ffmpeg. RSS of each. The stack's in-process part
 * (gateway, AMS) shares this process with the benchmark and is not counted: it only relays signalling.
 *
 * Concurrency: more sessions, each watched by its own page, one more at a time, until the decoded
 * frame rate (getStats framesDecoded over a window) of one page is below 28 fps, or `maxStreams`.
 * Chromium decodes all of them on the same 2 cores, so the limit is the machine's, not the node's
 * alone: the media processes' own frame rates (their stats) are reported beside.
 */
import { spawn } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import type { Writable } from 'node:stream';
import type { Browser } from 'playwright-core';
import { X264_THREADS } from '../src/node/media/av/video-encoder';
import { FRAME_HEADER_BYTES, i420Bytes, openFrameReader } from '../src/node/media-link/frame-wire';
import { ClientPage, ClientServer, connect, ConnectOptions, openPage, stats, waitFirstFrame } from '../test/support/browser';
import { startFrameSource } from '../test/support/media-process';
import { mean, sleep } from './lib';
import { cmdline, cpuOver, rssMiB } from './procfs';
import type { Stack } from './stack';

type Call = ReturnType<typeof import('../test/support/http').client>;
type Screen = { width: number; height: number; fps: number };

/** `threads`: libx264's, the same as the media engine's (X264_THREADS). */
export interface CpuBaseline {
  ffmpegCpu: number;
  frameSourceCpu: number;
  ffmpegRssMiB: number;
  kbps: number;
  fps: number;
  threads?: number;
}

export interface CpuStack {
  mediaCpu: number;
  frameSourceCpu: number;
  mediaRssMiB: number;
  frameSourceRssMiB: number;
  sentKbps: number | null;
  encodedFps: number | null;
  decodedFps: number;
  encoder: string;
}

export interface CpuPair {
  audio: boolean;
  /** Means over the rounds. */
  baseline: CpuBaseline;
  stack: CpuStack;
  /** stack.mediaCpu / baseline.ffmpegCpu (of the means) */
  ratio: number;
  /** Each round's own ratio. */
  rounds: number[];
}

export interface CpuResults {
  windowMs: number;
  rounds: number;
  /** Video only, then video + audio (the SDK's default). */
  pairs: CpuPair[];
  concurrency: { streams: number; decodedFps: number[]; encodedFps: (number | null)[]; mediaCpu: number[] }[];
  sustained: number;
  maxStreams: number;
}

async function ffmpegBaseline(screen: Screen, windowMs: number, audio: boolean, log: (s: string) => void): Promise<CpuBaseline> {
  const source = await startFrameSource(screen);
  const video = ['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${screen.width}x${screen.height}`, '-r', String(screen.fps), '-i', 'pipe:0'];
  const videoOut = ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-b:v', '3M', '-threads', String(X264_THREADS)];
  const args = audio
    ? [...video, '-f', 's16le', '-ar', '48000', '-ac', '2', '-i', 'pipe:3', '-map', '0:v', ...videoOut, '-map', '1:a', '-c:a', 'libopus', '-b:a', '64k', '-application', 'lowdelay', '-frame_duration', '20', '-f', 'nut', 'pipe:1']
    : [...video, ...videoOut, '-f', 'h264', 'pipe:1'];
  const ffmpeg = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...args], { stdio: ['pipe', 'pipe', 'inherit', 'pipe'] });
  const pcm = audio ? netConnect(source.audioSocket) : null;
  if (pcm) {
    const audioIn = ffmpeg.stdio[3] as Writable;
    pcm.on('error', () => undefined);
    audioIn.on('error', () => undefined);
    pcm.pipe(audioIn);
  }
  let outBytes = 0;
  ffmpeg.stdout!.on('data', (d: Buffer) => (outBytes += d.length));
  ffmpeg.stdin!.on('error', () => undefined);
  const frameBytes = FRAME_HEADER_BYTES + i420Bytes(screen.width, screen.height);
  let frames = 0;
  // Each frame, as the media process reads it (frame-wire.ts), is copied once into its own
  // buffer (header dropped) and written whole.
  const frame = Buffer.allocUnsafe(frameBytes);
  const socket = openFrameReader(
    source.videoSocket,
    frame,
    () => {
      frames++;
      ffmpeg.stdin!.write(Buffer.from(frame.subarray(FRAME_HEADER_BYTES)));
    },
    (reason) => log(`cpu baseline: ${reason}`),
  );
  socket.on('error', () => undefined);
  try {
    await sleep(3000);
    const f0 = frames;
    const b0 = outBytes;
    const t0 = performance.now();
    const [ffmpegCpu, frameSourceCpu] = await cpuOver([ffmpeg.pid!, source.proc.pid!], windowMs);
    const seconds = (performance.now() - t0) / 1000;
    const res = { ffmpegCpu, frameSourceCpu, ffmpegRssMiB: rssMiB(ffmpeg.pid!) ?? NaN, kbps: ((outBytes - b0) * 8) / seconds / 1000, fps: (frames - f0) / seconds, threads: X264_THREADS };
    log(`cpu baseline${audio ? ' (video + audio)' : ''}: ffmpeg ${ffmpegCpu.toFixed(1)} % of a core at ${res.fps.toFixed(1)} fps, ${res.kbps.toFixed(0)} kb/s; frame source ${frameSourceCpu.toFixed(1)} %`);
    return res;
  } finally {
    socket.destroy();
    pcm?.destroy();
    ffmpeg.stdin!.end();
    const gone = new Promise((r) => ffmpeg.once('exit', r));
    setTimeout(() => ffmpeg.exitCode === null && ffmpeg.kill('SIGKILL'), 2000).unref();
    await gone;
    await source.stop();
  }
}

interface Watched {
  session: string;
  instance: string;
  page: ClientPage;
  media: number;
  frameSource: number;
}

/** Media stats per instance (runtime.onMediaStats), the last few seconds. */
export class MediaStatsLog {
  readonly byInstance = new Map<string, { at: number; stats: any }[]>();
  constructor(stack: Stack) {
    stack.app.get(stack.NodeRuntime).onMediaStats((id: string, stats: any) => {
      const list = this.byInstance.get(id) ?? [];
      list.push({ at: Date.now(), stats });
      if (list.length > 600) list.shift();
      this.byInstance.set(id, list);
    });
  }
  since(id: string, t: number): any[] {
    return (this.byInstance.get(id) ?? []).filter((x) => x.at >= t).map((x) => x.stats);
  }
}

async function watch(stack: Stack, browser: Browser, server: ClientServer, call: Call, screen: Screen, options: ConnectOptions = {}): Promise<Watched> {
  const page = await openPage(browser, server);
  const res = await call('POST', '/1.0/sessions', { body: { app: 'pattern', screen } });
  if (res.status !== 201) throw new Error(`POST /1.0/sessions answered ${res.status}: ${JSON.stringify(res.body)}`);
  const session = res.body.metadata;
  await connect(page.page, session, options);
  await waitFirstFrame(page.page, 20_000);
  const instance = session.instance_id ?? (await call('GET', `/1.0/sessions/${session.id}`)).body.metadata.instance_id;
  const info = stack.app.get(stack.NodeRuntime).list().find((x: { instance_id: string }) => x.instance_id === instance);
  const pids: number[] = info?.pids ?? [];
  const media = pids.find((p) => /streamer\.process/.test(cmdline(p))) ?? -1;
  const frameSource = pids.find((p) => /frame-source/.test(cmdline(p))) ?? -1;
  return { session: session.id, instance, page, media, frameSource };
}

async function decodedFpsOf(pages: ClientPage[], ms: number): Promise<number[]> {
  const before = await Promise.all(pages.map((p) => stats(p.page)));
  const t0 = performance.now();
  await sleep(ms);
  const after = await Promise.all(pages.map((p) => stats(p.page)));
  const s = (performance.now() - t0) / 1000;
  return pages.map((_, i) => ((after[i].video?.framesDecoded ?? 0) - (before[i].video?.framesDecoded ?? 0)) / s);
}

export async function benchCpu(
  stack: Stack,
  browser: Browser,
  server: ClientServer,
  call: Call,
  mediaLog: MediaStatsLog,
  opts: { windowMs: number; rounds: number; maxStreams: number; screen: Screen },
  log: (s: string) => void,
): Promise<CpuResults> {
  const watched: Watched[] = [];
  const concurrency: CpuResults['concurrency'] = [];
  const pairs: CpuPair[] = [];
  const end = async (w: Watched) => {
    await w.page.close();
    await call('DELETE', `/1.0/sessions/${w.session}?force=true`);
  };
  try {
    // Each pair in rounds, alternating (baseline, stack, baseline, stack ...): one 10 s window of
    // either moves by ±10 % on this shared machine. Every session ends before the next baseline,
    // except the last video + audio one, which stays for the concurrency steps.
    const pair = async (audio: boolean, keepLast: boolean): Promise<CpuPair> => {
      const rounds: CpuPair[] = [];
      for (let round = 1; round <= opts.rounds; round++) {
        const baseline = await ffmpegBaseline(opts.screen, opts.windowMs, audio, log);
        const w = await watch(stack, browser, server, call, opts.screen, audio ? {} : { enable_speaker: false });
        const keep = keepLast && round === opts.rounds;
        if (keep) watched.push(w);
        try {
          rounds.push(await measurePair(w, baseline, audio, mediaLog, opts.windowMs, log));
        } finally {
          if (!keep) {
            await end(w);
            await sleep(1000);
          }
        }
      }
      return combineRounds(rounds);
    };
    pairs.push(await pair(false, false));
    const av = await pair(true, true);
    pairs.push(av);
    concurrency.push({ streams: 1, decodedFps: [av.stack.decodedFps], encodedFps: [av.stack.encodedFps], mediaCpu: [av.stack.mediaCpu] });
    let sustained = av.stack.decodedFps >= 28 ? 1 : 0;
    for (let n = 2; sustained === n - 1 && n <= opts.maxStreams; n++) {
      watched.push(await watch(stack, browser, server, call, opts.screen));
      await sleep(4000);
      const t1 = Date.now();
      const [fps, cpu] = await Promise.all([decodedFpsOf(watched.map((w) => w.page), opts.windowMs), cpuOver(watched.map((w) => w.media), opts.windowMs)]);
      const enc = watched.map((w) => mean(mediaLog.since(w.instance, t1).map((x) => x.fps)));
      concurrency.push({ streams: n, decodedFps: fps, encodedFps: enc, mediaCpu: cpu });
      log(`cpu ${n} streams: decoded ${fps.map((f) => f.toFixed(1)).join(' ')} fps; encoded ${enc.map((f) => f?.toFixed(1)).join(' ')} fps; media CPU ${cpu.map((c) => c.toFixed(0)).join(' ')} %`);
      if (Math.min(...fps) >= 28) sustained = n;
    }
    return { windowMs: opts.windowMs, rounds: opts.rounds, pairs, concurrency, sustained, maxStreams: opts.maxStreams };
  } finally {
    for (const w of watched) await end(w);
    await sleep(1000);
  }
}

/** The media process and frame source of a watched session over a window, against `baseline`. */
async function measurePair(w: Watched, baseline: CpuBaseline, audio: boolean, mediaLog: MediaStatsLog, windowMs: number, log: (s: string) => void): Promise<CpuPair> {
  await sleep(3000);
  const t0 = Date.now();
  const [[decodedFps], [mediaCpu, frameSourceCpu]] = await Promise.all([decodedFpsOf([w.page], windowMs), cpuOver([w.media, w.frameSource], windowMs)]);
  const ms = mediaLog.since(w.instance, t0);
  const stack: CpuStack = {
    mediaCpu,
    frameSourceCpu,
    mediaRssMiB: rssMiB(w.media) ?? NaN,
    frameSourceRssMiB: rssMiB(w.frameSource) ?? NaN,
    sentKbps: mean(ms.map((x) => x.sentKbps)),
    encodedFps: mean(ms.map((x) => x.fps)),
    decodedFps,
    encoder: ms[0]?.encoder ?? 'n/a',
  };
  const ratio = mediaCpu / baseline.ffmpegCpu;
  log(
    `cpu stack${audio ? ' (video + audio)' : ' (video only)'}: media process ${mediaCpu.toFixed(1)} % (${stack.mediaRssMiB.toFixed(0)} MiB), frame source ${frameSourceCpu.toFixed(1)} % (${stack.frameSourceRssMiB.toFixed(0)} MiB); ` +
      `sent ${stack.sentKbps?.toFixed(0)} kb/s at ${stack.encodedFps?.toFixed(1)} fps, decoded ${decodedFps.toFixed(1)} fps; ratio ${ratio.toFixed(2)}`,
  );
  return { audio, baseline, stack, ratio, rounds: [ratio] };
}

/** One pair from its rounds: each number the mean over the rounds, the ratio of those means. */
function combineRounds(rounds: CpuPair[]): CpuPair {
  const averaged = <T extends object>(xs: T[]): T => {
    const out = { ...xs[0] } as Record<string, unknown>;
    for (const [k, v] of Object.entries(out)) if (typeof v === 'number') out[k] = mean(xs.map((x) => (x as Record<string, number>)[k]));
    return out as T;
  };
  const baseline = averaged(rounds.map((r) => r.baseline));
  const stack = averaged(rounds.map((r) => r.stack));
  return { audio: rounds[0].audio, baseline, stack, ratio: stack.mediaCpu / baseline.ffmpegCpu, rounds: rounds.map((r) => r.ratio) };
}
