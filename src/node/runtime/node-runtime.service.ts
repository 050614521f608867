import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { conflict, DomainError, invalid, notFound, type NodeInstanceStartRequest } from '@streamstack/contracts';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { StreamerProcess } from '../media-link/streamer-process';
import { frameFileOf } from '../media-link/frame-wire';
import type { ClientSignal, MediaSource, MediaStats, StreamerConfig, VideoEncoderChoice } from '../media-link/streamer.messages';
import { startTestPattern, testPatternMedia } from '../sources/test-pattern/start-test-pattern';
import type { SandboxMode } from '../sandbox/bwrap';
import { startX11 } from '../sources/x11';
import type { SourceContext, StartedSource } from '../sources/source-context';
import { sendConfig } from '../supervisor/child-config';
import { lastLines, readTail } from '../supervisor/log-tail';
import { ProcessExit, ProcessGroup, SupervisedProcess } from '../supervisor/process-group';
import { WarmSpares } from '../supervisor/warm-spares';
import { DriverRequests } from './driver-requests';
import { checkApplication, checkDisplay, checkEncoder, checkInstanceId, type Display } from './start-request';
import {
  AUDIO_BITRATE_KBPS,
  AUDIO_CHANNELS,
  AUDIO_SAMPLE_RATE,
  DEFAULT_START_TIMEOUT_MS,
  DEFAULT_STOP_GRACE_MS,
  FAILURE_SETTLE_MS,
  LOG_TAIL_BYTES_PER_PROCESS,
  REASON_OUTPUT_BYTES,
  REASON_OUTPUT_LINES,
  UNIX_SOCKET_PATH_MAX,
  CHANNEL_DIR,
} from './runtime.constants';
import { NODE_RUNTIME_OPTIONS } from './runtime.types';
import type {
  IceSettings,
  NodeRuntimeOptions,
  RunningInstanceInfo,
  RuntimeStatusEvent,
  RuntimeStatusListener,
  StreamerEvent,
  StreamerEventListener,
} from './runtime.types';

export type { NodeRuntimeOptions, RunningInstanceInfo, RuntimeStatusEvent, StreamerEvent } from './runtime.types';
export { NODE_RUNTIME_OPTIONS } from './runtime.types';

type InstanceState = 'starting' | 'running' | 'stopping' | 'failed';

/**
 * Process roles, upstream first: when several die together the first one is the cause.
 * test-pattern: frame-source (+ streamer). x11: display (Xvfb), desktop (its size and
 * clipboard), audio (PulseAudio), network (pasta, for network: outbound), app (the manifest's
 * command), input (xdotool) (+ streamer). The streamer is the media process.
 */
const ROLES = ['display', 'desktop', 'audio', 'network', 'gamepad', 'app', 'frame-source', 'input', 'streamer'] as const;

interface Instance {
  id: string;
  workDir: string;
  socketDir: string;
  /** The socket dir is a temp dir of ours (the work dir path was too long for sun_path). */
  ownsSocketDir: boolean;
  group: ProcessGroup;
  /** The gateway session a streaming instance serves, and its media process. */
  sessionId: string | null;
  streamer: StreamerProcess | null;
  /** Hands an input event to the application (IPC for test-pattern, xdotool for x11). */
  deliverInput: ((event: { type: string; data: unknown }) => void) | null;
  /** What the instance shows, once started. */
  source: StartedSource | null;
  state: InstanceState;
  /** Rejects once the instance can no longer work (a process died, or it is being stopped). */
  broken: Promise<never>;
  breakWith: (reason: Error) => void;
  /** Unexpected exits collected while deciding which one caused a failure. */
  exits: { proc: SupervisedProcess; exit: ProcessExit }[];
  /** Set once the instance has been declared failed (it is declared so only once). */
  failReason: string | null;
  teardown: Promise<void> | null;
  stopping: Promise<void> | null;
}

/**
 * The node's instance runtime: runs each instance as a supervised group of child processes
 * (its source: the test pattern's frame source, or Xvfb + PulseAudio + the application +
 * xdotool; and, for a streaming instance, its media process, the streamer, which captures,
 * encodes and sends), reports their failures, and leaves nothing behind when an instance stops
 * or fails.
 *
 * A `start()` that fails rejects with the reason and reports no status event: the caller already
 * has the answer. After `running`, the runtime reports `error` (a process died) or `stopped`.
 */
@Injectable()
export class NodeRuntime implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('NodeRuntime');
  private readonly instances = new Map<string, Instance>();
  private readonly listeners: RuntimeStatusListener[] = [];
  private readonly streamerListeners: StreamerEventListener[] = [];
  private readonly statsListeners: Array<(instanceId: string, stats: MediaStats) => void> = [];
  private readonly dataDir: string;
  private readonly stopGraceMs: number;
  private readonly startTimeoutMs: number;
  private readonly ice: IceSettings;
  private readonly videoEncoder: VideoEncoderChoice;
  private readonly spares: WarmSpares;
  private readonly sandbox: SandboxMode;
  private closing = false;

  constructor(@Optional() @Inject(NODE_RUNTIME_OPTIONS) options: NodeRuntimeOptions) {
    if (!options?.dataDir) throw new Error('NodeRuntime needs options.dataDir');
    this.dataDir = resolve(options.dataDir);
    this.stopGraceMs = options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
    this.startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    this.ice = options.ice ?? { servers: [] };
    this.videoEncoder = options.videoEncoder ?? 'auto';
    this.sandbox = options.sandbox ?? 'on';
    this.spares = new WarmSpares(join(this.dataDir, 'spares'), options.warmSpares ?? true, this.videoEncoder);
  }

  /** Boots the warm spares (not in the constructor: a runtime built for tests may not want them). */
  onApplicationBootstrap(): void {
    this.spares.start();
  }

  onStatus(listener: RuntimeStatusListener): void {
    this.listeners.push(listener);
  }

  /** What streaming instances' streamers say for the gateway (signalling, client state). */
  onStreamerEvent(listener: StreamerEventListener): void {
    this.streamerListeners.push(listener);
  }

  /** Each streaming instance's media stats, once a second while someone watches. */
  onMediaStats(listener: (instanceId: string, stats: MediaStats) => void): void {
    this.statsListeners.push(listener);
  }

  /**
   * A client's signalling message for the streamer of the instance serving `sessionId`;
   * false when no instance here serves it (another node's, or gone).
   */
  signal(sessionId: string, generation: number, message: ClientSignal, spectator = false): boolean {
    const inst = [...this.instances.values()].find((i) => i.sessionId === sessionId && i.state === 'running');
    if (!inst?.streamer) return false;
    inst.streamer.signal(generation, message, spectator);
    return true;
  }

  list(): RunningInstanceInfo[] {
    return [...this.instances.values()].filter((i) => i.state === 'running').map((i) => this.info(i));
  }

  /**
   * Spawns the instance's processes; resolves once its source runs and, for a streaming
   * instance, its media process has opened the source and loaded its encoders. On failure
   * nothing is left running.
   */
  async start(req: NodeInstanceStartRequest): Promise<RunningInstanceInfo> {
    if (this.closing) throw new DomainError('unavailable', 'the node runtime is shutting down');
    const id = checkInstanceId(req.instance_id);
    checkApplication(req);
    const display = checkDisplay(req);
    const video = checkEncoder(req, display);
    if (this.instances.has(id)) throw conflict(`instance ${id} is already on this node`);

    const inst = this.newInstance(id);
    this.instances.set(id, inst);
    try {
      await mkdir(inst.workDir, { recursive: true, mode: 0o700 });
      await this.prepareSockets(inst);
      if (req.kind === 'x11' && this.sandbox === 'off') {
        this.logger.warn(`instance ${id}: its application runs WITHOUT a sandbox (STREAMSTACK_INSTANCE_SANDBOX=off): it can read what the server can and reach its ports`);
      }
      const ctx = this.sourceContext(inst, display, req.resources);
      const starting = req.kind === 'x11' ? startX11(ctx, { command: req.command ?? '', appDir: req.app_dir, env: req.env, network: req.network }) : startTestPattern(ctx);
      starting.catch(() => undefined); // awaited below
      // The media process (node-av, node-datachannel: a warm spare's) is configured while the
      // source starts when the source's sockets are known before it runs: the test pattern's.
      // It opens its encoders meanwhile and connects once the source listens.
      const streamer = req.session_id
        ? this.configureStreamer(inst, req.kind === 'test-pattern' ? testPatternMedia(ctx) : starting.then((s) => s.media), this.streamerConfig(inst, display, video))
        : null;
      streamer?.catch(() => undefined); // awaited below
      const source = await starting;
      inst.deliverInput = source.deliverInput;
      inst.source = source;
      if (streamer && req.session_id) this.wireStreamer(inst, await streamer, req.session_id);
      if (inst.state !== 'starting') throw new Error(`it was ${inst.state === 'stopping' ? 'stopped' : 'failed'} while starting`);
      inst.state = 'running';
      const info = this.info(inst);
      const streaming = inst.streamer ? `, streaming with ${inst.streamer.encoderName}` : '';
      this.logger.log(`instance ${id} (${req.kind}) running: pids ${info.pids.join(',')}${streaming}`);
      // The viewer's signalling first: the running status sets off AMS's and the gateway's writes.
      if (inst.sessionId) this.tell({ instance_id: id, session_id: inst.sessionId, kind: 'ready' });
      this.emit({ instance_id: id, status: 'running' });
      return info;
    } catch (e) {
      if (inst.state === 'starting') inst.state = 'failed';
      inst.breakWith(e as Error);
      await this.tearDown(inst);
      const message = `instance ${id} failed to start: ${(e as Error).message}`;
      this.logger.warn(message);
      throw e instanceof DomainError ? e : new DomainError('internal', message);
    }
  }

  /** Stops every process of the instance (SIGTERM, then SIGKILL after the grace). Idempotent. */
  async stop(instanceId: string): Promise<void> {
    const inst = this.instances.get(instanceId);
    if (!inst) return;
    if (inst.state === 'failed') return this.tearDown(inst); // its failure is being reported
    if (!inst.stopping) {
      inst.stopping = (async () => {
        inst.state = 'stopping';
        inst.breakWith(new Error('the instance is being stopped'));
        await this.tearDown(inst);
        this.logger.log(`instance ${instanceId} stopped`);
        // A node shutting down does not report its instances stopped: AMS keeps them as they
        // were and starts them again when the node registers after its restart.
        if (!this.closing) this.emit({ instance_id: instanceId, status: 'stopped' });
      })();
    }
    return inst.stopping;
  }

  /** Stops the instance if needed and deletes its work dir (logs included). */
  async purge(instanceId: string): Promise<void> {
    const id = checkInstanceId(instanceId);
    await this.stop(id);
    await rm(this.workDirOf(id), { recursive: true, force: true });
  }

  /** The recent output of the instance's processes (a bounded tail of each log). */
  async logs(instanceId: string): Promise<string> {
    const id = checkInstanceId(instanceId);
    const dir = this.workDirOf(id);
    if (!this.instances.has(id) && !existsSync(dir)) throw notFound('instance', id);
    const parts: string[] = [];
    for (const role of ROLES) {
      const text = await readTail(join(dir, `${role}.log`), LOG_TAIL_BYTES_PER_PROCESS);
      if (text) parts.push(`==> ${role}.log <==\n${text.endsWith('\n') ? text : `${text}\n`}`);
    }
    return parts.join('\n');
  }

  /** Hands an input event (PROTOCOL.md §5) to the instance's application. */
  sendInput(instanceId: string, event: { type: string; data: unknown }): void {
    const inst = this.instances.get(instanceId);
    if (!inst || (inst.state !== 'running' && inst.state !== 'starting')) throw notFound('instance', instanceId);
    if (typeof event?.type !== 'string' || event.type.length === 0) throw invalid('an input event needs a string type');
    inst.deliverInput?.({ type: event.type, data: event.data ?? {} });
  }

  /** Stops every instance; nothing this runtime started is left running. */
  async shutdown(): Promise<void> {
    this.closing = true;
    await Promise.all([this.spares.stop(this.stopGraceMs), ...[...this.instances.keys()].map((id) => this.stop(id))]);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.shutdown();
  }

  // ---------------------------------------------------------------------------------------

  private newInstance(id: string): Instance {
    let breakWith!: (reason: Error) => void;
    const broken = new Promise<never>((_, reject) => (breakWith = reject));
    broken.catch(() => undefined); // only ever raced, never required to be awaited
    const inst: Instance = {
      id,
      workDir: this.workDirOf(id),
      socketDir: this.workDirOf(id),
      ownsSocketDir: false,
      group: undefined as unknown as ProcessGroup,
      sessionId: null,
      streamer: null,
      deliverInput: null,
      source: null,
      state: 'starting',
      broken,
      breakWith,
      exits: [],
      failReason: null,
      teardown: null,
      stopping: null,
    };
    inst.group = new ProcessGroup((proc, exit) => this.onUnexpectedExit(inst, proc, exit));
    return inst;
  }

  private sourceContext(inst: Instance, display: Display, resources: SourceContext['resources']): SourceContext {
    return {
      instanceId: inst.id,
      workDir: inst.workDir,
      socketDir: inst.socketDir,
      channelDir: join(inst.socketDir, CHANNEL_DIR),
      group: inst.group,
      ...display,
      within: (work, what) => this.within(inst, work, what),
      takeSpare: (role, logFile) => this.spares.take(role, inst.group, logFile, inst.workDir),
      startTimeoutMs: this.startTimeoutMs,
      sandbox: this.sandbox,
      resources,
    };
  }

  private workDirOf(id: string): string {
    return join(this.dataDir, 'instances', id);
  }

  private async prepareSockets(inst: Instance): Promise<void> {
    // The longest socket path: a data channel's (PROTOCOL.md §5a: names up to 32 characters).
    if (Buffer.byteLength(join(inst.workDir, CHANNEL_DIR, 'c'.repeat(32))) > UNIX_SOCKET_PATH_MAX) {
      inst.socketDir = await mkdtemp(join(tmpdir(), 'streamstack-'));
      inst.ownsSocketDir = true;
    }
    await mkdir(join(inst.socketDir, CHANNEL_DIR), { recursive: true, mode: 0o700 });
  }

  /** What the instance's media process is told, but for its source. */
  private streamerConfig(inst: Instance, display: Display, video: Omit<StreamerConfig['video'], 'encoder'>): Omit<StreamerConfig, 'source'> {
    return {
      ...display,
      video: { encoder: this.videoEncoder, ...video },
      audio: { bitrateKbps: AUDIO_BITRATE_KBPS, sampleRate: AUDIO_SAMPLE_RATE, channels: AUDIO_CHANNELS },
      iceServers: this.ice.servers,
      dataChannelDir: join(inst.socketDir, CHANNEL_DIR),
      ...(this.ice.bindAddress ? { bindAddress: this.ice.bindAddress } : {}),
      ...(this.ice.portRange ? { portRange: this.ice.portRange } : {}),
    };
  }

  /**
   * The instance's media process, configured: it has opened its source and loaded its encoders.
   * Its failures fail the instance from here on.
   */
  private async configureStreamer(inst: Instance, media: MediaSource | Promise<MediaSource>, config: Omit<StreamerConfig, 'source'>): Promise<StreamerProcess> {
    const loaded = this.spares.take('streamer', inst.group, join(inst.workDir, 'streamer.log'), inst.workDir);
    loaded.catch(() => undefined); // raced below
    const source = await media;
    const proc = await this.within(inst, loaded, 'the streamer did not load');
    const streamer = StreamerProcess.attach(proc.child);
    inst.streamer = streamer;
    streamer.on('fatal', (reason) => this.onMediaFailure(inst, proc, reason));
    streamer.on('log', (level, message) => this.logger[level === 'error' ? 'error' : level === 'warn' ? 'warn' : 'debug'](`instance ${inst.id} streamer: ${message}`));
    sendConfig(proc.child, { ...config, source });
    try {
      await this.within(inst, streamer.ready, 'the streamer did not become ready');
    } catch (e) {
      // Its output went to its log, not to us: quote the log (it says why it could not start).
      if (!streamer.alive) throw new Error(`the streamer exited before it was ready${await this.outputOf(proc)}`);
      throw e;
    }
    return streamer;
  }

  /**
   * The configured media process serves `sessionId`: it answers the session's signalling and
   * its peers' input and requests go to the source.
   */
  private wireStreamer(inst: Instance, streamer: StreamerProcess, sessionId: string): void {
    inst.sessionId = sessionId;
    streamer.on('signal', (generation, message, spectator) => this.tell({ instance_id: inst.id, session_id: sessionId, kind: 'signal', generation, ...(spectator ? { spectator } : {}), message }));
    const requests = new DriverRequests(streamer, inst.source!, (level, message) => this.logger[level === 'info' ? 'log' : level](`instance ${inst.id}: ${message}`));
    streamer.on('resize', (width, height) => requests.resize(width, height));
    streamer.on('clipboard', (text) => requests.setClipboard(text));
    streamer.on('client-state', (generation, state, reason, spectator) => {
      if (state === 'connected' && !spectator) requests.newDriver();
      this.tell({ instance_id: inst.id, session_id: sessionId, kind: 'client-state', generation, state, ...(reason ? { reason } : {}), ...(spectator ? { spectator } : {}) });
    });
    // A viewer has its first frame: the node is past the work it waited for; ready the next spares.
    streamer.on('first-frame', () => this.spares.replenish());
    streamer.on('input', (event) => {
      requests.input(event.type);
      inst.deliverInput?.(event);
    });
    streamer.on('stats', (stats) => this.statsListeners.forEach((l) => l(inst.id, stats)));
  }

  /** Races `work` against the instance breaking and the start timeout. */
  private async within<T>(inst: Instance, work: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const last = inst.group.alive.at(-1) ?? null;
        void this.outputOf(last).then((out) => reject(new Error(`${what} within ${this.startTimeoutMs} ms${out}`)));
      }, this.startTimeoutMs);
    });
    try {
      return await Promise.race([work, inst.broken, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The media process lost its source or its encoder: counted like its own exit, so that a
   * source process that died at the same time is named as the cause.
   */
  private onMediaFailure(inst: Instance, proc: SupervisedProcess, reason: string): void {
    this.onUnexpectedExit(inst, proc, { code: null, signal: null, expected: false, failure: reason });
  }

  private onUnexpectedExit(inst: Instance, proc: SupervisedProcess, exit: ProcessExit): void {
    if (inst.state === 'stopping' || inst.teardown) return;
    if (inst.exits.some((e) => e.proc === proc)) return; // its fatal message, then its exit
    inst.exits.push({ proc, exit });
    if (inst.exits.length > 1) return; // the first one already scheduled the verdict
    const wasRunning = inst.state === 'running';
    inst.state = 'failed';
    // Processes of one instance often die together (the frame source dies, so the media
    // process loses its source too). Wait a moment and blame the most upstream one.
    setTimeout(() => {
      void (async () => {
        const ranked = [...inst.exits].sort((a, b) => rank(a.proc) - rank(b.proc));
        const cause = ranked[0];
        const others = ranked.slice(1).map((e) => e.proc.describe(e.exit));
        const reason = `${cause.proc.describe(cause.exit)}${await this.outputOf(cause.proc)}` + (others.length ? `; then ${others.join('; ')}` : '');
        this.fail(inst, reason, wasRunning);
      })();
    }, FAILURE_SETTLE_MS);
  }

  /** Marks the instance failed, reaps what is left, reports `error` if it had been running. */
  private fail(inst: Instance, reason: string, report = inst.state === 'running' || inst.state === 'failed'): void {
    if (inst.state === 'stopping' || inst.failReason !== null) return;
    inst.state = 'failed';
    inst.failReason = reason;
    inst.breakWith(new Error(reason));
    this.logger.error(`instance ${inst.id} failed: ${reason}`);
    void this.tearDown(inst).then(() => {
      if (report) this.emit({ instance_id: inst.id, status: 'error', reason });
    });
  }

  /** `; last output: a | b | c` from a process's log, or ''. */
  private async outputOf(proc: SupervisedProcess | null): Promise<string> {
    if (!proc) return '';
    const lines = lastLines(await readTail(proc.logFile, REASON_OUTPUT_BYTES).catch(() => ''), REASON_OUTPUT_LINES + 2)
      .filter((l) => !l.startsWith('--- ')) // our own start/exit markers
      .slice(-REASON_OUTPUT_LINES);
    return lines.length ? `; last output: ${lines.join(' | ')}` : '';
  }

  private tearDown(inst: Instance): Promise<void> {
    inst.teardown ??= (async () => {
      // The streamer reads every other process's output: it goes first.
      await inst.group.stopAll(this.stopGraceMs, (p) => p.name === 'streamer');
      if (inst.ownsSocketDir) await rm(inst.socketDir, { recursive: true, force: true });
      else {
        // A SIGKILLed frame source cannot remove its sockets and frame file.
        await Promise.all([CHANNEL_DIR, 'video.sock', frameFileOf('video.sock'), 'audio.sock', 'pulse.sock'].map((f) => rm(join(inst.socketDir, f), { recursive: true, force: true })));
      }
      if (this.instances.get(inst.id) === inst) this.instances.delete(inst.id);
    })();
    return inst.teardown;
  }

  private info(inst: Instance): RunningInstanceInfo {
    return { instance_id: inst.id, pids: inst.group.alive.map((p) => p.pid) };
  }

  /** To the streamer listeners (the gateway's side of signalling). */
  private tell(ev: StreamerEvent): void {
    this.streamerListeners.forEach((l) => l(ev));
  }

  private emit(ev: RuntimeStatusEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(ev);
      } catch (e) {
        this.logger.error(`status listener threw: ${(e as Error).message}`);
      }
    }
  }
}

function rank(proc: SupervisedProcess): number {
  const i = (ROLES as readonly string[]).indexOf(proc.name);
  return i < 0 ? ROLES.length : i;
}
