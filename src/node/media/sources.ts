/**
 * Where the media process gets its raw media: the test pattern's unix sockets, or an X display
 * (x11grab, in-process) and a PulseAudio monitor (`parec`, a child of this process). A source
 * only reads while someone watches (`setActive`): a paused test-pattern socket makes the frame
 * source skip drawing, and a paused x11 capture grabs nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { FRAME_HEADER_BYTES, i420Bytes, openFrameReader, type FrameHeader } from '../media-link/frame-wire';
import type { MediaSource } from '../media-link/streamer.messages';

export interface VideoFrame {
  /** Packed I420 planes of width x height; valid only during the call (the buffer is reused). */
  i420: Buffer;
  /** The source's size when it made this frame (an x11 display can be resized). */
  width: number;
  height: number;
  /** Wall-clock ms when it was captured. */
  captureMs: number;
}

export interface SourceEvents {
  video(frame: VideoFrame): void;
  /** Interleaved s16le PCM, as it arrives. */
  audio(pcm: Buffer): void;
  /** The source is gone for good: the instance cannot stream. */
  fatal(reason: string): void;
  log(level: 'debug' | 'info' | 'warn', message: string): void;
}

export interface RawSource {
  open(): Promise<void>;
  setActive(video: boolean, audio: boolean): void;
  /** The display changed size: capture it at the new one. Rejects for a source of fixed size. */
  resize(width: number, height: number): Promise<void>;
  close(): void;
}

/**
 * Audio that arrives faster than real time beyond this much is a backlog from a socket buffer
 * (the frame source kept writing while nobody listened): dropped, so a new listener hears now.
 */
const AUDIO_AHEAD_MAX_MS = 60;
const PCM_BYTES_PER_MS = (48_000 * 2 * 2) / 1000;
/** One read of the audio socket: 100 ms of PCM at most. */
const PCM_READ_BYTES = 100 * PCM_BYTES_PER_MS;
const CONNECT_TIMEOUT_MS = 5000;
/** The longest pause between tries while the frame source is not listening yet. */
const CONNECT_RETRY_MAX_MS = 8;
/** How long a failed x11 read waits for the capture at the display's new size. */
const RESIZE_GRACE_MS = 2000;

export function openSource(source: MediaSource, size: { width: number; height: number; fps: number }, events: SourceEvents): RawSource {
  return source.kind === 'test-pattern' ? new TestPatternSource(source, size, events) : new X11Source(source, size, events);
}

/** Reads I420 frames as the frame source announces them (frame-wire.ts) and PCM from its audio socket. */
class TestPatternSource implements RawSource {
  private video: net.Socket | null = null;
  private audio: net.Socket | null = null;
  /** The frame read last; it goes to the engine, which encodes it before returning. */
  private readonly frame: Buffer;
  private readonly size: { width: number; height: number };
  /** Frames drawn before this (wall clock) waited in the socket while nobody read: dropped. */
  private videoSince = 0;
  /** Since when audio is wanted (0: not), and how much has been passed on since. */
  private audioSince = 0;
  private audioBytes = 0;
  private closed = false;

  constructor(
    private readonly source: Extract<MediaSource, { kind: 'test-pattern' }>,
    size: { width: number; height: number; fps: number },
    private readonly events: SourceEvents,
  ) {
    this.frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + i420Bytes(size.width, size.height));
    this.size = { width: size.width, height: size.height };
  }

  resize(): Promise<void> {
    return Promise.reject(new Error('the test pattern is drawn at its instance\'s size'));
  }

  /** Connects to the frame source's sockets, waiting for it to listen (it may start beside us). */
  async open(): Promise<void> {
    const deadline = Date.now() + CONNECT_TIMEOUT_MS;
    this.video = await connectWhenListening(
      () =>
        openFrameReader(
          this.source.videoSocket,
          this.frame,
          (header) => this.onVideoFrame(header),
          (reason) => {
            // Framing lost: a broken frame source; the instance cannot stream from it.
            this.events.fatal(`the frame source's video: ${reason}`);
            this.close();
          },
        ),
      this.source.videoSocket,
      deadline,
    );
    // PCM into one reused buffer: the encoder copies what it keeps before the next read.
    const pcm = Buffer.allocUnsafe(PCM_READ_BYTES);
    const onread = {
      buffer: pcm,
      callback: (n: number) => {
        this.onAudioData(pcm.subarray(0, n));
        return true;
      },
    };
    this.audio = await connectWhenListening(() => net.connect({ path: this.source.audioSocket, onread }), this.source.audioSocket, deadline);
    this.video.pause();
    this.audio.pause();
    for (const [name, socket] of [['video', this.video], ['audio', this.audio]] as const) {
      socket.on('error', (e: NodeJS.ErrnoException) => {
        // The frame source went first (the instance is stopping): 'close' follows and says so if it matters.
        if (e.code === 'EPIPE' || e.code === 'ECONNRESET') return;
        this.events.log('warn', `test pattern ${name} socket: ${e.message}`);
      });
      socket.on('close', () => {
        if (!this.closed) this.events.fatal(`the frame source closed its ${name} socket`);
      });
    }
  }

  setActive(video: boolean, audio: boolean): void {
    if (video && !this.videoSince) this.videoSince = Date.now();
    if (!video) this.videoSince = 0;
    if (video) this.video?.resume();
    else this.video?.pause();
    if (audio && !this.audioSince) this.audioSince = performance.now();
    if (!audio) this.audioSince = 0;
    this.audioBytes = 0;
    if (audio) this.audio?.resume();
    else this.audio?.pause();
  }

  /** Passes PCM on at real-time pace from the moment audio was asked for; a backlog burst is dropped. */
  private onAudioData(chunk: Buffer): void {
    if (!this.audioSince) return;
    const budget = (performance.now() - this.audioSince + AUDIO_AHEAD_MAX_MS) * PCM_BYTES_PER_MS;
    const room = Math.max(0, Math.floor((budget - this.audioBytes) / 4) * 4); // whole stereo s16 samples
    const pass = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.audioBytes += pass.length;
    if (pass.length > 0) this.events.audio(pass);
  }

  close(): void {
    this.closed = true;
    this.video?.destroy();
    this.audio?.destroy();
  }

  private onVideoFrame(header: FrameHeader): void {
    // A frame drawn before we asked for video waited while nobody watched: not worth showing.
    if (header.captureMs < this.videoSince) return;
    this.events.video({ i420: this.frame.subarray(FRAME_HEADER_BYTES), captureMs: header.captureMs, ...this.size });
  }
}

/** Captures an X display in-process (node-av's x11grab) and its PulseAudio monitor with parec. */
class X11Source implements RawSource {
  private capture: import('./av/x11-capture').X11Capture | null = null;
  /** A capture at the display's new size, taken over between two reads. */
  private nextCapture: import('./av/x11-capture').X11Capture | null = null;
  private resizing: Promise<void> = Promise.resolve();
  private resizeAsked = 0;
  private parec: ChildProcess | null = null;
  private videoActive = false;
  private wake: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly source: Extract<MediaSource, { kind: 'x11' }>,
    private size: { width: number; height: number; fps: number },
    private readonly events: SourceEvents,
  ) {}

  async open(): Promise<void> {
    this.capture = await this.openCapture(this.size.width, this.size.height);
    void this.grabLoop();
  }

  resize(width: number, height: number): Promise<void> {
    // One at a time, in order: the last size asked for is the one captured.
    const ask = ++this.resizeAsked;
    const done = this.resizing.then(async () => {
      if (ask !== this.resizeAsked || this.closed) return;
      const capture = await this.openCapture(width, height);
      if (ask !== this.resizeAsked || this.closed) return void (await capture.close());
      // Taken over by grabLoop between two reads; one that it never took is closed here.
      const untaken = this.nextCapture;
      this.nextCapture = capture;
      this.size = { ...this.size, width, height };
      this.wake?.();
      await untaken?.close();
    });
    this.resizing = done.catch(() => undefined); // a failed one does not stop the next
    return done;
  }

  /**
   * A read failed. The display may have just shrunk under the capture (X says BadMatch): the
   * runtime resizes the display, then asks for a capture at its new size, so wait a moment for
   * that one (undefined); otherwise the error stands.
   */
  private async captureAfterResize(error: Error): Promise<undefined> {
    const end = performance.now() + RESIZE_GRACE_MS;
    while (!this.nextCapture && !this.closed && performance.now() < end) await new Promise((r) => setTimeout(r, 10));
    if (this.nextCapture || this.closed) return undefined;
    throw error;
  }

  private async openCapture(width: number, height: number) {
    // Loaded here, not at the top: the test pattern never needs node-av's capture.
    const { X11Capture } = await import('./av/x11-capture');
    return X11Capture.open({ display: this.source.display, width, height, fps: this.size.fps });
  }

  setActive(video: boolean, audio: boolean): void {
    this.videoActive = video;
    if (video) this.wake?.();
    if (audio && !this.parec) this.startAudio();
    else if (!audio && this.parec) this.stopAudio();
  }

  close(): void {
    this.closed = true;
    this.wake?.();
    this.stopAudio();
  }

  private async grabLoop(): Promise<void> {
    try {
      while (!this.closed) {
        if (this.nextCapture) {
          // Between reads: nothing of the old capture is in flight. Swapped before any await, so
          // that a resize meanwhile sees it taken.
          const old = this.capture;
          this.capture = this.nextCapture;
          this.nextCapture = null;
          await old?.close();
        }
        if (!this.videoActive) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = null;
          continue;
        }
        const cap = this.capture!;
        const i420 = await cap.read().catch((e: Error) => this.captureAfterResize(e));
        if (i420 === undefined) continue; // the display shrank under the capture: the next one takes over
        if (i420 === null) {
          if (!this.closed) this.events.fatal(`the X display ${this.source.display} ended`);
          return;
        }
        if (this.videoActive && !this.closed && !this.nextCapture) this.events.video({ i420, captureMs: Date.now(), width: cap.width, height: cap.height });
      }
    } catch (e) {
      if (!this.closed) this.events.fatal(`capturing ${this.source.display} failed: ${(e as Error).message}`);
    } finally {
      await this.capture?.close();
      await this.nextCapture?.close();
    }
  }

  /** parec writes raw PCM of the application's sink monitor to its stdout. */
  private startAudio(): void {
    if (!this.source.pulseServer) return;
    const child = spawn(
      'parec',
      ['--raw', '--format=s16le', '--rate=48000', '--channels=2', '--latency-msec=20', `--device=${this.source.pulseSource}`],
      { env: { PATH: process.env.PATH, PULSE_SERVER: this.source.pulseServer }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.parec = child;
    child.stdout?.on('data', (pcm: Buffer) => this.events.audio(pcm));
    child.stderr?.on('data', (text: Buffer) => this.events.log('warn', `parec: ${text.toString('utf8').trim().slice(0, 300)}`));
    child.on('error', (e) => this.events.log('warn', `parec could not run (no audio): ${e.message}`));
    child.on('exit', (code, signal) => {
      if (this.parec !== child) return;
      this.parec = null;
      // Audio is not worth failing the instance for; the picture goes on.
      if (!this.closed) this.events.log('warn', `parec exited (${signal ?? `code ${code}`}): no audio until the next viewer`);
    });
  }

  private stopAudio(): void {
    const child = this.parec;
    this.parec = null;
    child?.kill('SIGKILL');
  }
}

/**
 * A socket from `open` (a new one each try) once it has connected to `path`. Nothing listening
 * there yet (no socket file, or refused) is tried again a few ms later: the runtime configures
 * the media process while the frame source starts. Fails at `deadline` or on another error.
 */
async function connectWhenListening(open: () => net.Socket, path: string, deadline: number): Promise<net.Socket> {
  for (let waitMs = 1; ; waitMs = Math.min(2 * waitMs, CONNECT_RETRY_MAX_MS)) {
    const socket = open();
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      const done = (e: NodeJS.ErrnoException | null) => {
        clearTimeout(timer);
        socket.off('error', done);
        resolve(e);
      };
      const timer = setTimeout(() => done(new Error(`nothing answered within ${CONNECT_TIMEOUT_MS} ms`)), Math.max(0, deadline - Date.now()));
      socket.once('connect', () => done(null));
      socket.once('error', done);
    });
    if (!error) return socket;
    socket.destroy();
    const notYet = error.code === 'ENOENT' || error.code === 'ECONNREFUSED';
    if (!notYet) throw new Error(`could not connect to ${path}: ${error.message}`);
    if (Date.now() + waitMs >= deadline) throw new Error(`could not connect to ${path}: ${error.message} (still, after ${CONNECT_TIMEOUT_MS} ms)`);
    await new Promise((r) => setTimeout(r, waitMs));
  }
}
