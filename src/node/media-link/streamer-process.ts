/**
 * The runtime's handle on one streamer child process (streamer.process.ts): starts it, relays
 * signalling and data to it, and turns its IPC messages into events.
 *
 * The child leads its own process group (detached) like every instance process, so the
 * runtime can signal the group; `child` is exposed for that supervision. A supervisor that
 * spawns processes itself (ProcessGroup) can use `streamerCommand()` and `StreamerProcess.attach()`.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { createWriteStream, type WriteStream } from 'node:fs';
import { sendConfig, whenLoaded } from '../supervisor/child-config';
import { nodeScript, type NodeScriptCommand } from '../supervisor/node-script';
import { childEnv } from '../supervisor/child-env';
import type {
  ClientSignal,
  ClientState,
  InputEvent,
  InstanceSignal,
  MediaStats,
  StreamerConfig,
  StreamerInbound,
  StreamerLogLevel,
} from './streamer.messages';

export interface StreamerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StreamerProcessEvents {
  signal: [generation: number, message: InstanceSignal, spectator: boolean];
  stats: [stats: MediaStats];
  /** Its media path broke for good (source gone, encoder failed). */
  fatal: [reason: string];
  input: [event: InputEvent];
  'client-state': [generation: number, state: ClientState, reason: string | undefined, spectator: boolean];
  /** A peer was sent its first video frame. */
  'first-frame': [generation: number, spectator: boolean];
  /** The driver set the clipboard. */
  clipboard: [text: string];
  /** The driver asked for a display of this size. */
  resize: [width: number, height: number];
  log: [level: StreamerLogLevel, message: string];
  exit: [exit: StreamerExit];
}

export interface StreamerStartOptions {
  cwd?: string;
  /** stdout and stderr are appended here as well (the tail is kept in memory either way). */
  logFile?: string;
  /** How long loading may take. Default 15 s (ts-node under Jest is slow to start). */
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

const STDERR_TAIL_BYTES = 8 * 1024;
const DEFAULT_READY_TIMEOUT_MS = 15_000;
const DEFAULT_STOP_GRACE_MS = 2000;

/** How to run the streamer (it then waits for its configuration over IPC). */
export function streamerCommand(baseEnv: NodeJS.ProcessEnv = childEnv()): NodeScriptCommand {
  return nodeScript(join(__dirname, '..', 'media'), 'streamer.process', baseEnv);
}

export class StreamerProcess extends EventEmitter<StreamerProcessEvents> {
  private tail = '';
  /** The video encoder it chose (known once ready). */
  encoderName: string | null = null;
  private exitInfo: StreamerExit | null = null;
  private readonly exitPromise: Promise<StreamerExit>;
  private readyResolve!: () => void;
  private readyReject!: (e: Error) => void;
  readonly ready: Promise<void>;

  private constructor(private readonly proc: ChildProcess) {
    super();
    this.ready = new Promise((resolve, reject) => {
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
    // Nobody may be waiting on `ready` (attach()); its rejection is reported through start().
    this.ready.catch(() => undefined);
    this.exitPromise = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        this.readyReject(new Error(`the streamer exited (${signal ?? `code ${code}`}) before it was ready: ${this.stderrTail().trim() || 'no output'}`));
        this.emit('exit', this.exitInfo);
        resolve(this.exitInfo);
      });
    });
    proc.once('error', (e) => this.readyReject(new Error(`the streamer could not be started: ${e.message}`)));
    proc.on('message', (m: unknown) => this.onMessage(m));
  }

  /** Spawns the streamer and resolves once its source is open and its encoders are loaded. */
  static async start(config: StreamerConfig, opts: StreamerStartOptions = {}): Promise<StreamerProcess> {
    const { command, args, env } = streamerCommand(opts.env ?? childEnv());
    const child = spawn(command, args, {
      cwd: opts.cwd ?? process.cwd(),
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Own process group, like every instance process: the runtime signals the group.
      detached: true,
    });
    const sp = StreamerProcess.attach(child, opts.logFile);
    whenLoaded(child).then(() => sendConfig(child, config), () => undefined); // an exit rejects `ready`
    const timeoutMs = opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        sp.ready,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`the streamer was not ready within ${timeoutMs} ms: ${sp.stderrTail().trim() || 'no output'}`)), timeoutMs);
        }),
      ]);
    } catch (e) {
      await sp.stop(0);
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return sp;
  }

  /** Wraps a streamer child someone else spawned (stdio: [any, pipe|any, pipe|any, 'ipc']). */
  static attach(child: ChildProcess, logFile?: string): StreamerProcess {
    const sp = new StreamerProcess(child);
    let log: WriteStream | null = null;
    if (logFile) {
      log = createWriteStream(logFile, { flags: 'a' });
      log.on('error', () => undefined);
    }
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        log?.write(chunk);
        sp.tail = (sp.tail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
      });
    }
    child.once('exit', () => setTimeout(() => log?.end(), 50));
    return sp;
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get child(): ChildProcess {
    return this.proc;
  }

  get alive(): boolean {
    return this.exitInfo === null;
  }

  get exited(): Promise<StreamerExit> {
    return this.exitPromise;
  }

  /** The last few KiB of the streamer's output (its log). */
  stderrTail(): string {
    return this.tail;
  }

  /** A client's signalling message (already validated by the gateway) for generation `generation`; `spectator`: a view-only peer. */
  signal(generation: number, message: ClientSignal, spectator = false): void {
    this.post({ kind: 'signal', generation, message, ...(spectator ? { spectator } : {}) });
  }

  /** The display now has this size: the media process captures it so. */
  resizeSource(width: number, height: number): void {
    this.post({ kind: 'source-size', width, height });
  }

  /** A `{type, data}` notice for the client's control channel. */
  sendControl(message: { type: string; data?: unknown }): void {
    this.post({ kind: 'control', message });
  }

  /** Asks it to stop; SIGKILLs its group after `graceMs`. Resolves once it has exited. */
  async stop(graceMs = DEFAULT_STOP_GRACE_MS): Promise<void> {
    if (!this.alive) return;
    if (graceMs > 0) this.post({ kind: 'stop' });
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    await this.exitPromise;
    clearTimeout(timer);
  }

  private kill(signal: NodeJS.Signals): void {
    const pid = this.proc.pid;
    if (pid === undefined || !this.alive) return;
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        this.proc.kill(signal);
      } catch {
        // gone
      }
    }
  }

  private post(message: StreamerInbound): void {
    if (!this.proc.connected) return;
    this.proc.send(message, (err) => {
      if (err) this.emit('log', 'debug', `IPC to the streamer failed: ${err.message}`);
    });
  }

  private onMessage(m: unknown): void {
    if (typeof m !== 'object' || m === null) return;
    const msg = m as { kind?: unknown } & Record<string, unknown>;
    switch (msg.kind) {
      case 'ready':
        this.encoderName = String(msg.encoder);
        this.readyResolve();
        return;
      case 'signal':
        this.emit('signal', msg.generation as number, msg.message as InstanceSignal, msg.spectator === true);
        return;
      case 'stats':
        this.emit('stats', msg.stats as MediaStats);
        return;
      case 'fatal':
        this.emit('fatal', String(msg.reason));
        return;
      case 'input':
        this.emit('input', msg.event as InputEvent);
        return;
      case 'client-state':
        this.emit('client-state', msg.generation as number, msg.state as ClientState, typeof msg.reason === 'string' ? msg.reason : undefined, msg.spectator === true);
        return;
      case 'first-frame':
        this.emit('first-frame', msg.generation as number, msg.spectator === true);
        return;
      case 'clipboard':
        if (typeof msg.text === 'string') this.emit('clipboard', msg.text);
        return;
      case 'resize':
        if (Number.isInteger(msg.width) && Number.isInteger(msg.height)) this.emit('resize', msg.width as number, msg.height as number);
        return;
      case 'log':
        this.emit('log', msg.level as StreamerLogLevel, String(msg.message));
        return;
    }
  }
}
