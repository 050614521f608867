/**
 * Child-process entry of the `test-pattern` application: the "display and application" of a
 * test-pattern instance. It serves raw media to the instance's media process (the streamer)
 * over two unix sockets in the instance's work dir, the media process being the client:
 *
 * - video: I420 pictures of width x height, drawn at `fps` while a reader is connected, each
 *   written to the frame file and announced on the socket (media-link/frame-wire.ts);
 * - audio: s16le stereo at 48 kHz, a 440 Hz tone, paced by the wall clock.
 *
 * A new connection replaces the old one, and every connection starts on a frame boundary.
 *
 * Latency: a frame is drawn only when the reader has taken the previous one (nothing queued);
 * otherwise the tick is dropped. Stale frames are never queued, so a slow
 * (or paused: nobody watches) reader costs no drawing and then sees fresh frames. Each frame
 * carries its capture time, which the media process turns into its RTP timestamp.
 *
 * Its configuration is the first IPC message (child-config.ts), so a node can boot one ahead
 * of need. Input events arrive over Node IPC as {type, data}; the last one is drawn on screen.
 * The process exits when its IPC channel goes away (the runtime died), on SIGTERM/SIGINT, or
 * on any error: it must never outlive the runtime that started it.
 *
 * Dependency-free (node built-ins and our own files only) and without path aliases, so it runs
 * as plain `node frame-source.js` from dist and via ts-node under Jest.
 */
import * as fs from 'fs';
import * as net from 'net';
import { receiveConfig } from '../../supervisor/child-config';
import { FRAME_HEADER_BYTES, FrameWriter, frameFileOf, i420Bytes, nowMs, writeFrameHeader } from '../../media-link/frame-wire';
import { PatternRenderer } from './pattern-renderer';
import { writeTimestampStrip } from './timestamp-strip';

export interface FrameSourceConfig {
  width: number;
  height: number;
  fps: number;
  videoSocket: string;
  audioSocket: string;
  sampleRate: number;
  channels: number;
  toneHz: number;
}

/** Opus takes 20 ms frames: writing PCM more often only wakes the media process more often. */
const AUDIO_TICK_MS = 20;
/** Never generate more than this much audio at once (after an event-loop stall we skip ahead). */
const AUDIO_MAX_CHUNK_MS = 200;
/** Audio queued in user space beyond this is dropped rather than delayed. */
const AUDIO_MAX_QUEUED_MS = 60;
const INPUT_TEXT_MAX = 160;
const STATS_EVERY_MS = 10_000;

function parseConfig(raw: unknown): FrameSourceConfig {
  const c = raw as Partial<FrameSourceConfig>;
  const num = (v: unknown, name: string): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`config.${name} must be a positive number`);
    return v;
  };
  const str = (v: unknown, name: string): string => {
    if (typeof v !== 'string' || v.length === 0) throw new Error(`config.${name} must be a non-empty string`);
    return v;
  };
  return {
    width: num(c.width, 'width'),
    height: num(c.height, 'height'),
    fps: num(c.fps, 'fps'),
    videoSocket: str(c.videoSocket, 'videoSocket'),
    audioSocket: str(c.audioSocket, 'audioSocket'),
    sampleRate: num(c.sampleRate ?? 48000, 'sampleRate'),
    channels: num(c.channels ?? 2, 'channels'),
    toneHz: num(c.toneHz ?? 440, 'toneHz'),
  };
}

/** `input::key code=30 pressed=true`: short, printable, bounded. */
export function describeInput(message: unknown): string | null {
  if (typeof message !== 'object' || message === null) return null;
  const { type, data } = message as { type?: unknown; data?: unknown };
  if (typeof type !== 'string') return null;
  const parts = [type];
  if (typeof data === 'object' && data !== null) {
    for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
      parts.push(`${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
    }
  }
  return parts.join(' ').replace(/[^\x20-\x7e]/g, '?').slice(0, INPUT_TEXT_MAX);
}

function log(text: string): void {
  process.stdout.write(`${new Date().toISOString()} frame-source: ${text}\n`);
}

function main(config: FrameSourceConfig): void {
  const renderer = new PatternRenderer(config.width, config.height, config.fps);
  const frameIntervalMs = 1000 / config.fps;
  const bytesPerSample = 2 * config.channels;

  let lastInput: string | null = null;
  let frameNumber = 0;
  let droppedFrames = 0;

  // Video: one frame buffer and one frame file; a frame is drawn only once the reader has taken
  // the previous one, so the file is never torn.
  const frame = Buffer.alloc(FRAME_HEADER_BYTES + i420Bytes(config.width, config.height));
  const frameFile = frameFileOf(config.videoSocket);
  const frameFd = fs.openSync(frameFile, 'w+', 0o600);
  fs.ftruncateSync(frameFd, frame.length);
  let video: { socket: net.Socket; writer: FrameWriter } | null = null;
  let videoTimer: NodeJS.Timeout | null = null;
  let videoEpoch = 0;
  let videoTick = 0;

  const scheduleVideo = (): void => {
    const now = Date.now();
    videoTick += 1;
    let due = videoEpoch + videoTick * frameIntervalMs;
    if (due < now) {
      // Late (event-loop stall): skip the missed ticks instead of bursting to catch up.
      const missed = Math.ceil((now - due) / frameIntervalMs);
      droppedFrames += missed;
      videoTick += missed;
      due = videoEpoch + videoTick * frameIntervalMs;
    }
    videoTimer = setTimeout(videoFrame, Math.max(0, due - now));
  };

  const videoFrame = (): void => {
    videoTimer = null;
    const current = video;
    if (!current) return;
    if (current.writer.busy) {
      droppedFrames += 1;
    } else {
      const picture = frame.subarray(FRAME_HEADER_BYTES);
      renderer.render(picture, { now: Date.now(), frameNumber, droppedFrames, lastInput });
      // Stamped last: the strip is the time the frame is handed to the encoder.
      const captureMs = nowMs();
      writeTimestampStrip(picture, config.width, config.height, Math.round(captureMs));
      writeFrameHeader(frame, { frameNumber, captureMs });
      current.writer.send(frame);
      frameNumber += 1;
    }
    scheduleVideo();
  };

  const startVideo = (socket: net.Socket): void => {
    video?.socket.destroy();
    video = { socket, writer: new FrameWriter(socket, frameFd) };
    log('a reader connected to video');
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (video?.socket !== socket) return;
      log('the reader left video');
      video = null;
      if (videoTimer) clearTimeout(videoTimer);
      videoTimer = null;
    });
    if (videoTimer) clearTimeout(videoTimer);
    // First frame now, so the new encoder gets going without waiting a frame interval.
    videoEpoch = Date.now();
    videoTick = 0;
    videoFrame();
  };

  // Audio: paced by the wall clock from the moment the encoder connects.
  let audio: { socket: net.Socket; epoch: number; samples: number; phase: number } | null = null;
  const audioTimer = setInterval(() => {
    const a = audio;
    if (!a) return;
    const owed = Math.floor(((Date.now() - a.epoch) * config.sampleRate) / 1000) - a.samples;
    if (owed <= 0) return;
    const maxChunk = Math.floor((AUDIO_MAX_CHUNK_MS * config.sampleRate) / 1000);
    const step = (2 * Math.PI * config.toneHz) / config.sampleRate;
    if (owed > maxChunk || a.socket.writableLength > (AUDIO_MAX_QUEUED_MS * config.sampleRate * bytesPerSample) / 1000) {
      // Stalled reader or event loop: drop rather than queue stale audio (the media process
      // stamps audio by arrival, so a gap stays a gap).
      a.samples += owed;
      a.phase = (a.phase + owed * step) % (2 * Math.PI);
      return;
    }
    const chunk = Buffer.alloc(owed * bytesPerSample);
    for (let i = 0; i < owed; i++) {
      const s = Math.round(Math.sin(a.phase) * 0.25 * 32767);
      a.phase += step;
      for (let ch = 0; ch < config.channels; ch++) chunk.writeInt16LE(s, i * bytesPerSample + ch * 2);
    }
    a.phase %= 2 * Math.PI;
    a.samples += owed;
    a.socket.write(chunk);
  }, AUDIO_TICK_MS);

  const onAudioClient = (socket: net.Socket): void => {
    audio?.socket.destroy();
    log('a reader connected to audio');
    audio = { socket, epoch: Date.now(), samples: 0, phase: 0 };
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (audio?.socket === socket) audio = null;
    });
    socket.resume();
  };

  const servers: net.Server[] = [];
  const listen = (path: string, onClient: (s: net.Socket) => void): Promise<void> =>
    new Promise((resolve, reject) => {
      fs.rmSync(path, { force: true }); // stale socket from a previous run
      const server = net.createServer(onClient);
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        server.on('error', (err) => fail(err));
        resolve();
      });
      servers.push(server);
    });

  let exiting = false;
  const exit = (code: number): void => {
    if (exiting) return;
    exiting = true;
    clearInterval(audioTimer);
    if (videoTimer) clearTimeout(videoTimer);
    for (const socket of [video?.socket, audio?.socket]) socket?.destroy();
    for (const s of servers) s.close();
    for (const p of [config.videoSocket, config.audioSocket, frameFile]) fs.rmSync(p, { force: true });
    log(`exiting (code ${code}) after ${frameNumber} frames, ${droppedFrames} dropped`);
    process.exit(code);
  };
  const fail = (err: unknown): void => {
    process.stderr.write(`frame-source: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    exit(1);
  };

  process.on('SIGTERM', () => exit(0));
  process.on('SIGINT', () => exit(0));
  process.on('uncaughtException', fail);
  // The runtime went away (crashed, killed): do not outlive it.
  process.on('disconnect', () => {
    log('IPC channel closed, the runtime is gone');
    exit(0);
  });
  process.on('message', (message: unknown) => {
    const text = describeInput(message);
    if (text !== null) lastInput = text;
  });

  const statsTimer = setInterval(() => log(`frames=${frameNumber} dropped=${droppedFrames} video=${video ? 'connected' : 'idle'}`), STATS_EVERY_MS);
  statsTimer.unref();

  Promise.all([listen(config.videoSocket, startVideo), listen(config.audioSocket, onAudioClient)]).then(
    () => {
      log(`listening ${config.width}x${config.height}@${config.fps} on ${config.videoSocket} and ${config.audioSocket}`);
      if (process.send) process.send({ type: 'ready' });
    },
    fail,
  );
}

if (require.main === module) {
  // Until its configuration comes this process may be a warm spare (child-config.ts).
  const runtimeGone = (): void => process.exit(0);
  process.once('disconnect', runtimeGone);
  receiveConfig()
    .then((raw) => {
      process.off('disconnect', runtimeGone);
      main(parseConfig(raw));
    })
    .catch((e: Error) => {
      process.stderr.write(`frame-source: cannot start: ${e.message}\n`);
      process.exit(1);
    });
}
