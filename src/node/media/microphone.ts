/**
 * The driver's microphone into the application (issue 10): the Opus RTP the client sends on its
 * audio track is decoded and played, as it arrives, into the instance's PulseAudio sink `mic`,
 * whose monitor is the application's default source (PULSE_SOURCE). `pacat` (a child of this
 * process) writes to PulseAudio, as `parec` reads the application's sound. Packets are played
 * in arrival order; a late or missing one is a gap (no jitter buffer: speech into an
 * application, not a recording).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { parseRtpHeader } from './rtp';
import { OpusDecoder } from './av/opus-decoder';

const CHANNELS = 2;
/** PCM waiting for pacat beyond this (200 ms) is dropped: a stalled player must not grow memory. */
const PCM_QUEUE_MAX = (48_000 * CHANNELS * 2) / 5;
/** A pacat that exits is started again at most this often. */
const RESTART_EVERY_MS = 5000;

export class MicrophonePlayer {
  private readonly decoder = OpusDecoder.open(CHANNELS);
  private pacat: ChildProcess | null = null;
  private closed = false;
  private failures = 0;
  private startedAt = -Infinity;

  constructor(
    private readonly pulseServer: string,
    private readonly sink: string,
    private readonly log: (level: 'debug' | 'info' | 'warn', message: string) => void,
  ) {}

  /** One RTP packet of the client's audio track. */
  onRtp(packet: Buffer): void {
    if (this.closed) return;
    const header = parseRtpHeader(packet);
    if (!header || header.payloadEnd <= header.payloadOffset) return;
    let pcm: Buffer;
    try {
      pcm = this.decoder.decode(packet.subarray(header.payloadOffset, header.payloadEnd));
    } catch (e) {
      if (this.failures++ % 100 === 0) this.log('warn', `microphone: ${(e as Error).message} (${this.failures} so far)`);
      return;
    }
    const stdin = pcm.length > 0 ? this.output()?.stdin : null;
    if (stdin && stdin.writableLength < PCM_QUEUE_MAX) stdin.write(pcm);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pacat?.kill('SIGKILL');
    this.decoder.close();
  }

  private output(): ChildProcess | null {
    if (this.pacat) return this.pacat;
    if (performance.now() - this.startedAt < RESTART_EVERY_MS) return null; // it just failed
    this.startedAt = performance.now();
    const child = spawn('pacat', ['--playback', '--raw', '--format=s16le', '--rate=48000', `--channels=${CHANNELS}`, '--latency-msec=40', `--device=${this.sink}`], {
      env: { PATH: process.env.PATH, PULSE_SERVER: this.pulseServer },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    this.pacat = child;
    child.stdin?.on('error', () => undefined); // its exit says why
    child.stderr?.on('data', (text: Buffer) => this.log('warn', `pacat: ${text.toString('utf8').trim().slice(0, 300)}`));
    child.on('error', (e) => this.log('warn', `pacat could not run (no microphone): ${e.message}`));
    child.on('exit', (code, signal) => {
      if (this.pacat === child) this.pacat = null;
      if (!this.closed) this.log('warn', `pacat exited (${signal ?? `code ${code}`}); started again in at most ${RESTART_EVERY_MS / 1000} s`);
    });
    this.log('info', `microphone: playing the client's audio into ${this.sink}`);
    return child;
  }
}
