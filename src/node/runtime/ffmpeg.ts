import { execFile } from 'node:child_process';
import { accessSync, chmodSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { RtpEndpoints } from '../media/rtp';

/**
 * ffmpeg comes from PATH when there is one, else from the @ffmpeg-installer/ffmpeg package
 * (DESIGN.md), so `npm install` alone yields a working encoder.
 */
export function resolveFfmpegPath(explicit?: string): string {
  if (explicit) return explicit;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'ffmpeg');
    if (isExecutable(candidate)) return candidate;
  }
  let installed: string;
  try {
    installed = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  } catch (e) {
    throw new Error(`ffmpeg is not on PATH and @ffmpeg-installer/ffmpeg is not installed (${(e as Error).message})`);
  }
  // Some package managers unpack the binary without its execute bit.
  if (!isExecutable(installed)) chmodSync(installed, statSync(installed).mode | 0o755);
  return installed;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** What this ffmpeg build accepts; the packaged static build (2018) predates both options. */
export interface FfmpegCapabilities {
  /** `-stats_period` (ffmpeg >= 4.4): how often -progress reports; else fixed at 0.5 s. */
  statsPeriod: boolean;
  /** `-fps_mode` (ffmpeg >= 5.1); older builds only know the (later deprecated) `-vsync`. */
  fpsMode: boolean;
  /** Input devices, for x11 instances: screen capture and PulseAudio (else silence). */
  x11grab: boolean;
  pulse: boolean;
}

const probed = new Map<string, Promise<FfmpegCapabilities>>();

export function probeFfmpeg(ffmpegPath: string): Promise<FfmpegCapabilities> {
  let result = probed.get(ffmpegPath);
  if (!result) {
    result = Promise.all([run(ffmpegPath, ['-hide_banner', '-h', 'long']), run(ffmpegPath, ['-hide_banner', '-devices'])]).then(
      ([help, devices]) => ({
        statsPeriod: /^-stats_period\b/m.test(help),
        fpsMode: /^-fps_mode\b/m.test(help),
        x11grab: /^ D.? +x11grab\b/m.test(devices),
        pulse: /^ D.? +pulse\b/m.test(devices),
      }),
    );
    probed.set(ffmpegPath, result);
    result.catch(() => probed.delete(ffmpegPath));
  }
  return result;
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 4 * 1024 * 1024, timeout: 10_000 }, (err, stdout, stderr) => {
      // `-h` and `-devices` exit 0, but some builds exit 1 after printing help: judge by output.
      const text = `${stdout}\n${stderr}`;
      if (err && text.trim().length < 100) reject(new Error(`cannot run ffmpeg at ${command}: ${err.message}`));
      else resolve(text);
    });
  });
}

/** ffmpeg input options for the test-pattern frame source's two unix sockets. */
export function frameSourceInputs(i: {
  width: number;
  height: number;
  videoSocket: string;
  audioSocket: string;
  sampleRate: number;
  channels: number;
}): { video: string[]; audio: string[] } {
  const raw = ['-probesize', '32', '-analyzeduration', '0', '-use_wallclock_as_timestamps', '1'];
  return {
    video: [
      ...raw,
      // ffmpeg reads inputs on threads when there are several; a deep queue there would hold
      // frames the frame source believes delivered (and so would not drop). Keep it minimal.
      '-thread_queue_size',
      '1',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'yuv420p',
      '-video_size',
      `${i.width}x${i.height}`,
      '-framerate',
      '1000',
      '-i',
      `unix:${i.videoSocket}`,
    ],
    audio: [...raw, '-f', 's16le', '-ar', String(i.sampleRate), '-ac', String(i.channels), '-i', `unix:${i.audioSocket}`],
  };
}

/**
 * ffmpeg input options for an x11 instance: x11grab of its Xvfb display (x11grab stamps frames
 * with the wall clock itself), and its PulseAudio null sink's monitor, or real-time silence
 * when there is no PulseAudio, so that every instance has the same two RTP streams.
 */
export function x11Inputs(i: {
  display: string;
  width: number;
  height: number;
  fps: number;
  pulseServer: string | null;
  pulseSource: string;
  sampleRate: number;
  channels: number;
}): { video: string[]; audio: string[] } {
  return {
    video: [
      '-thread_queue_size',
      '1',
      '-probesize',
      '32',
      '-analyzeduration',
      '0',
      '-f',
      'x11grab',
      '-draw_mouse',
      '1',
      '-framerate',
      String(i.fps),
      '-video_size',
      `${i.width}x${i.height}`,
      '-i',
      `${i.display}.0+0,0`,
    ],
    audio: i.pulseServer
      ? [
          '-f',
          'pulse',
          '-server',
          i.pulseServer,
          // 20 ms packets and fragments. With the defaults the first packet took 1-2 s (measured).
          '-fragment_size',
          String((i.sampleRate * i.channels * 2) / 50),
          '-frame_size',
          String((i.sampleRate * i.channels * 2) / 50),
          '-probesize',
          '32',
          '-analyzeduration',
          '0',
          '-sample_rate',
          String(i.sampleRate),
          '-channels',
          String(i.channels),
          '-i',
          i.pulseSource,
        ]
      : ['-re', '-f', 'lavfi', '-i', `anullsrc=r=${i.sampleRate}:cl=stereo`],
  };
}

export interface EncoderArgsInput extends RtpEndpoints {
  /** Input options ending in `-i ...`: `frameSourceInputs()` or `x11Inputs()`. */
  videoInput: string[];
  audioInput: string[];
  fps: number;
  gop: number;
  bitrateKbps: number;
  sampleRate: number;
  channels: number;
  host: string;
  sdpFile: string;
  audioBitrateKbps: number;
  /** How often ffmpeg reports progress (used to see its first frame), when it can be set. */
  progressPeriodSeconds: number;
}

/**
 * The encoder's command line. Choices, each measured (see node-runtime.service.spec.ts):
 *
 * - Input, test-pattern (`frameSourceInputs`): the frame source's unix sockets, ffmpeg as the
 *   client. `-use_wallclock_as_timestamps` stamps each frame when ffmpeg reads it, which is
 *   when it was captured (the source draws only when the previous frame was taken), so a
 *   dropped frame leaves a gap in
 *   RTP time instead of drift. The raw demuxer's time base is 1/framerate and the wall clock is
 *   rounded to it, hence `-framerate 1000` (ms precision; the real rate goes to x264 as `fps`),
 *   `-enc_time_base 1:90000`, and passthrough frame timing so ffmpeg neither duplicates nor drops.
 * - `-probesize 32 -analyzeduration 0`: the format is given; do not wait to probe. Not
 *   `-fflags nobuffer`: it throws away the frame read while probing, and then the first packet
 *   of a (re)started encoder waits for the *second* frame (one frame interval later, measured).
 * - Video: libx264 ultrafast/zerolatency, constrained baseline, no B-frames (ultrafast also turns
 *   scene-cut off, so IDRs come every `gop` frames and at the start of every encoder run).
 * - Audio: Opus 48 kHz; `aresample=async=1` turns the wall-clock gaps of dropped audio into
 *   silence instead of letting timestamps and samples disagree.
 * - Output: ffmpeg packetizes RTP itself (DESIGN.md: 4 ms capture->last packet instead of 38 ms
 *   for an Annex-B pipe) with fixed payload types and SSRCs. `skip_rtcp`: ffmpeg would send its
 *   sender reports to port+1, which may be another instance's port; the streamer's WebRTC stack
 *   writes its own SRs for the forwarded stream. `localaddr`: its sending socket binds loopback,
 *   not every interface. ffmpeg sends with sendto() on an unconnected socket, so ICMP
 *   port-unreachable (nobody listening yet) is never reported back to it: it keeps running
 *   (checked with strace and by the tests, which bind the ports only after start()).
 */
export function buildEncoderArgs(i: EncoderArgsInput, caps: FfmpegCapabilities): string[] {
  const rtp = (port: number) => `rtp://${i.host}:${port}?pkt_size=1200&localaddr=${i.host}`;
  // ffmpeg's -ssrc is a signed 32-bit option; the bits on the wire are the same.
  const signed = (ssrc: number) => String(ssrc | 0);
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'warning',
    '-progress',
    'pipe:1',
    ...(caps.statsPeriod ? ['-stats_period', String(i.progressPeriodSeconds)] : []),
    ...i.videoInput,
    ...i.audioInput,
    // video
    '-map',
    '0:v',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-profile:v',
    'baseline',
    '-pix_fmt',
    'yuv420p',
    '-bf',
    '0',
    '-g',
    String(i.gop),
    '-b:v',
    `${i.bitrateKbps}k`,
    '-maxrate',
    `${i.bitrateKbps}k`,
    '-bufsize',
    `${Math.max(1, Math.round(i.bitrateKbps / 2))}k`,
    '-x264-params',
    `fps=${i.fps}`,
    ...(caps.fpsMode ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough']),
    '-enc_time_base',
    '1:90000',
    '-f',
    'rtp',
    '-payload_type',
    String(i.videoPayloadType),
    '-ssrc',
    signed(i.videoSsrc),
    '-rtpflags',
    'skip_rtcp',
    rtp(i.videoPort),
    // audio
    '-map',
    '1:a',
    '-af',
    'aresample=async=1',
    '-c:a',
    'libopus',
    '-b:a',
    `${i.audioBitrateKbps}k`,
    '-application',
    'lowdelay',
    '-frame_duration',
    '20',
    '-ar',
    String(i.sampleRate),
    '-ac',
    String(i.channels),
    '-f',
    'rtp',
    '-payload_type',
    String(i.audioPayloadType),
    '-ssrc',
    signed(i.audioSsrc),
    '-rtpflags',
    'skip_rtcp',
    rtp(i.audioPort),
    '-sdp_file',
    i.sdpFile,
  ];
}
