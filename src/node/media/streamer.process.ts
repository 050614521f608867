/**
 * Child-process entry of an instance's streamer (see streamer.ts). Started by the runtime with
 * an IPC channel: `node streamer.process.js` from dist, or through
 * ts-node/register/transpile-only under Jest (StreamerProcess.start does both). Once loaded it
 * waits for its configuration, the first IPC message (child-config.ts), so it can be a warm spare.
 *
 * It opens its source and loads its encoders (media-engine.ts), then reports `{kind:'ready'}`;
 * node-av and node-datachannel are loaded before it says it has loaded, so a warm spare has
 * paid for them. It exits on
 * `{kind:'stop'}`, SIGTERM/SIGINT, or when the IPC channel closes (the runtime went away): a
 * streamer never outlives its runtime. Logs go to stderr, one line each.
 *
 * No path aliases: it must run as plain node from dist.
 */
import { AV_LOG_WARNING, Log } from 'node-av';
import { initLogger, type LogLevel } from 'node-datachannel';
import { receiveConfig } from '../supervisor/child-config';
import { MediaEngine } from './media-engine';
import { Streamer } from './streamer';
import { parseInbound, parseStreamerConfig, WARM_ENCODER_ENV, type StreamerLogLevel, type StreamerOutbound } from '../media-link/streamer.messages';
import { warmUpEncoder, type VideoEncoderName } from './av/video-encoder';
import { NOTICE_FLUSH_MS } from './streamer-peer';
import { warmUpWebRtc } from './warm-up';

/** Time for close_notify and the last RTCP to leave before we exit (after the peers' closing notices, if any). */
const EXIT_DELAY_MS = 100;

function log(level: StreamerLogLevel, message: string): void {
  process.stderr.write(`${new Date().toISOString()} ${level} streamer[${process.pid}]: ${message.replace(/\s*\n\s*/g, ' | ')}\n`);
  // Problems also go to the runtime, which has the instance's structured log.
  if ((level === 'warn' || level === 'error') && process.connected) send({ kind: 'log', level, message });
}

function send(message: StreamerOutbound): void {
  if (!process.connected || !process.send) return;
  process.send(message, undefined, undefined, (err: Error | null) => {
    // The channel closing under us is handled by 'disconnect'.
    if (err) process.stderr.write(`${new Date().toISOString()} debug streamer[${process.pid}]: IPC send failed: ${err.message}\n`);
  });
}

let exiting = false;
let engine: MediaEngine | null = null;
function exit(code: number, streamer: Streamer | null, why: string): void {
  if (exiting) return;
  exiting = true;
  log(code === 0 ? 'info' : 'error', `exiting: ${why}`);
  let noticed = false;
  try {
    noticed = streamer?.close() ?? false;
    engine?.close();
  } catch (e) {
    log('error', `closing: ${(e as Error).message}`);
  }
  // Not node-datachannel's cleanup(): process exit frees everything, and cleanup() has been
  // seen to crash on wrappers the GC already took.
  setTimeout(() => process.exit(code), (noticed ? NOTICE_FLUSH_MS : 0) + EXIT_DELAY_MS);
}

async function main(): Promise<void> {
  if (!process.send) {
    log('error', 'the streamer needs an IPC channel (spawn it with stdio "ipc")');
    process.exit(2);
  }
  let streamer: Streamer | null = null;
  process.on('disconnect', () => exit(0, streamer, 'the IPC channel closed'));
  process.on('SIGTERM', () => exit(0, streamer, 'SIGTERM'));
  process.on('SIGINT', () => exit(0, streamer, 'SIGINT'));
  process.on('uncaughtException', (e) => exit(1, streamer, `uncaught: ${e.stack ?? e}`));
  process.on('unhandledRejection', (e) => exit(1, streamer, `unhandled rejection: ${(e as Error)?.stack ?? e}`));

  // FFmpeg's info lines (libx264 prints eight per open) would drown this process's log.
  Log.setLevel(AV_LOG_WARNING);
  // Before it says it has loaded: a spare pays for these while nobody waits.
  const warm = process.env[WARM_ENCODER_ENV];
  if (warm) warmUpEncoder(warm as VideoEncoderName);
  // (Only a head start: if it cannot be had, the real peer connection says why.)
  await warmUpWebRtc().catch((e: Error) => log('debug', `no WebRTC warm-up: ${e.message}`));
  const config = parseStreamerConfig(await receiveConfig());
  if (config.rtcLogLevel) initLogger(config.rtcLogLevel as LogLevel, (level, message) => log(level === 'Error' || level === 'Fatal' ? 'error' : level === 'Warning' ? 'warn' : 'debug', `rtc: ${message}`));
  engine = new MediaEngine(config, {
    log,
    stats: (stats) => send({ kind: 'stats', stats }),
    // The runtime fails the instance with this reason (and logs it): only our own log here.
    fatal: (reason) => {
      process.stderr.write(`${new Date().toISOString()} error streamer[${process.pid}]: media path failed: ${reason}\n`);
      send({ kind: 'fatal', reason });
    },
  });
  await engine.open();
  streamer = new Streamer(config, { send, log }, engine);
  const s = streamer;
  process.on('message', (m: unknown) => {
    const msg = parseInbound(m);
    if (!msg) return log('warn', `ignoring a malformed IPC message: ${JSON.stringify(m)?.slice(0, 200)}`);
    if (msg.kind === 'stop') return exit(0, s, 'asked to stop');
    s.handle(msg);
  });
  log('info', `ready: ${config.source.kind} ${config.width}x${config.height}@${config.fps}, ${engine.encoderName} ${config.video.minKbps}-${config.video.maxKbps} kb/s (start ${config.video.startKbps})`);
  send({ kind: 'ready', pid: process.pid, encoder: engine.encoderName });
}

main().catch((e: Error) => {
  log('error', `cannot start: ${e.message}`);
  // Let stderr drain so the parent can quote it.
  setTimeout(() => process.exit(1), 20);
});
