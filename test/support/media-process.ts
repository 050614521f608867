/**
 * A streaming instance without the runtime: a real frame source (the test pattern) and a real
 * media process reading it, as the runtime wires them. For specs of the media process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamerProcess, type StreamerStartOptions } from '../../src/node/media-link/streamer-process';
import type { StreamerConfig } from '../../src/node/media-link/streamer.messages';
import { sendConfig, whenLoaded } from '../../src/node/supervisor/child-config';
import { nodeScript } from '../../src/node/supervisor/node-script';

export interface TestStream {
  streamer: StreamerProcess;
  frameSource: ChildProcess;
  config: StreamerConfig;
  /** Stops the streamer and the frame source and removes their sockets. */
  stop(): Promise<void>;
}

export interface TestFrameSource {
  proc: ChildProcess;
  videoSocket: string;
  audioSocket: string;
  /** Stops it and removes its sockets. */
  stop(): Promise<void>;
}

/** A real test-pattern frame source serving `screen` on two unix sockets in `dir` (a fresh one by default). */
export async function startFrameSource(screen: { width: number; height: number; fps: number }, dir = mkdtempSync(join(tmpdir(), 'ss-media-'))): Promise<TestFrameSource> {
  const sockets = { videoSocket: join(dir, 'video.sock'), audioSocket: join(dir, 'audio.sock') };
  const cmd = nodeScript(join(__dirname, '..', '..', 'src', 'node', 'sources', 'test-pattern'), 'frame-source');
  const proc = spawn(cmd.command, cmd.args, { env: cmd.env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await whenLoaded(proc);
  const ready = new Promise<void>((resolve) => proc.on('message', (m) => (m as { type?: string })?.type === 'ready' && resolve()));
  sendConfig(proc, { ...screen, ...sockets, sampleRate: 48000, channels: 2, toneHz: 440 });
  await ready;
  return {
    proc,
    ...sockets,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startTestStream(
  overrides: Partial<Omit<StreamerConfig, 'source'>> & { width?: number; height?: number; fps?: number } = {},
  opts: StreamerStartOptions = {},
): Promise<TestStream> {
  const { width = 320, height = 240, fps = 30 } = overrides;
  const source = await startFrameSource({ width, height, fps });
  const channelDir = mkdtempSync(join(tmpdir(), 'ss-channels-'));
  const config: StreamerConfig = {
    width,
    height,
    fps,
    source: { kind: 'test-pattern', videoSocket: source.videoSocket, audioSocket: source.audioSocket },
    video: { encoder: 'libx264', gop: 600, minKbps: 300, maxKbps: 1500, startKbps: 1000 },
    audio: { bitrateKbps: 64, sampleRate: 48000, channels: 2 },
    iceServers: [],
    bindAddress: '127.0.0.1',
    dataChannelDir: channelDir,
    ...overrides,
  };
  const streamer = await StreamerProcess.start(config, opts);
  const frameSource = source.proc;
  streamer.on('input', (event) => frameSource.connected && frameSource.send(event));
  return {
    streamer,
    frameSource,
    config,
    async stop() {
      await streamer.stop();
      await source.stop();
      rmSync(channelDir, { recursive: true, force: true });
    },
  };
}
