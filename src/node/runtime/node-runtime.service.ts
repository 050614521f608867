import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { conflict, DomainError, invalid, notFound, type NodeInstanceStartRequest } from '@streamstack/contracts';
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import {
  buildEncoderArgs,
  EncoderArgsInput,
  FfmpegCapabilities,
  frameSourceInputs,
  probeFfmpeg,
  resolveFfmpegPath,
  x11Inputs,
} from './ffmpeg';
import { lastLines, readTail } from '../supervisor/log-tail';
import { UdpPortAllocator } from './ports';
import { ProcessExit, ProcessGroup, SupervisedProcess } from '../supervisor/process-group';
import {
  AUDIO_BITRATE_KBPS,
  AUDIO_CHANNELS,
  AUDIO_PAYLOAD_TYPE,
  AUDIO_SAMPLE_RATE,
  DEFAULT_RTP_PORT_RANGE,
  DEFAULT_START_TIMEOUT_MS,
  DEFAULT_STOP_GRACE_MS,
  FAILURE_SETTLE_MS,
  INSTANCE_ID_PATTERN,
  LOG_TAIL_BYTES_PER_PROCESS,
  PROGRESS_PERIOD_SECONDS,
  REASON_OUTPUT_BYTES,
  REASON_OUTPUT_LINES,
  RTP_HOST,
  TEST_PATTERN_TONE_HZ,
  UNIX_SOCKET_PATH_MAX,
  VIDEO_PAYLOAD_TYPE,
} from './runtime.constants';
import { NODE_RUNTIME_OPTIONS } from './runtime.types';
import type {
  InstanceMedia,
  NodeRuntimeOptions,
  RunningInstanceInfo,
  RuntimeStatusEvent,
  RuntimeStatusListener,
  IceSettings,
  StreamerEvent,
  StreamerEventListener,
} from './runtime.types';
import type { FrameSourceConfig } from '../sources/test-pattern/frame-source';
import { findOnPath, readDisplayNumber, XdotoolInput } from '../sources/x11';
import { StreamerProcess } from '../media-link/streamer-process';
import type { ClientSignal, StreamerConfig } from '../media-link/streamer.messages';
import { sendConfig } from '../supervisor/child-config';
import { WarmSpares } from '../supervisor/warm-spares';

export type { InstanceMedia, NodeRuntimeOptions, RunningInstanceInfo, RuntimeStatusEvent, StreamerEvent } from './runtime.types';
export { NODE_RUNTIME_OPTIONS } from './runtime.types';

type InstanceState = 'starting' | 'running' | 'stopping' | 'failed';

/**
 * Process roles, upstream first: when several die together the first one is the cause.
 * test-pattern: frame-source + encoder. x11: display (Xvfb), audio and audio-clock (PulseAudio
 * and pacat, when there are), app (the manifest's command), input (xdotool) + encoder.
 */
const ROLES = ['display', 'audio', 'audio-clock', 'app', 'frame-source', 'input', 'encoder', 'streamer'] as const;

type Inputs = { video: string[]; audio: string[] };
type Display = { width: number; height: number; fps: number };

interface Instance {
  id: string;
  workDir: string;
  socketDir: string;
  /** The socket dir is a temp dir of ours (the work dir path was too long for sun_path). */
  ownsSocketDir: boolean;
  ports: number[];
  media: InstanceMedia;
  encoderInput: EncoderArgsInput;
  group: ProcessGroup;
  encoder: SupervisedProcess | null;
  /** test-pattern: a loaded encoder waiting for frames, ready to take over at once. */
  standby: { proc: SupervisedProcess; connected: Promise<void> } | null;
  frameSourceProc: SupervisedProcess | null;
  /** test-pattern: tells the frame source to feed the newest standby encoder. */
  activateStandby: (() => void) | null;
  /** Streaming instances start their encoder for their first viewer, not at start. */
  encoderOnDemand: boolean;
  /** The gateway session a streaming instance serves, and its WebRTC peer process. */
  sessionId: string | null;
  streamer: StreamerProcess | null;
  /** Hands an input event to the application (IPC for test-pattern, xdotool for x11). */
  deliverInput: ((event: { type: string; data: unknown }) => void) | null;
  state: InstanceState;
  /** Rejects once the instance can no longer work (a process died, or it is being stopped). */
  broken: Promise<never>;
  breakWith: (reason: Error) => void;
  /** Unexpected exits collected while deciding which one caused a failure. */
  exits: { proc: SupervisedProcess; exit: ProcessExit }[];
  /** Set once the instance has been declared failed (it is declared so only once). */
  failReason: string | null;
  restarting: Promise<void> | null;
  teardown: Promise<void> | null;
  stopping: Promise<void> | null;
}

/**
 * The node's instance runtime: runs each instance as a supervised group of child processes
 * (test-pattern: the frame source and the ffmpeg encoder; x11: Xvfb, PulseAudio, the
 * application, xdotool and the encoder), reports their failures, and leaves nothing behind
 * when an instance stops or fails. The encoder sends RTP to two loopback UDP ports per
 * instance (`media`), which the streamer binds and forwards datagram by datagram.
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
  private readonly ports: UdpPortAllocator;
  private readonly dataDir: string;
  private readonly stopGraceMs: number;
  private readonly startTimeoutMs: number;
  private readonly ice: IceSettings;
  private readonly spares: WarmSpares;
  private ffmpegPath: string | null;
  private closing = false;

  constructor(@Optional() @Inject(NODE_RUNTIME_OPTIONS) options: NodeRuntimeOptions) {
    if (!options?.dataDir) throw new Error('NodeRuntime needs options.dataDir');
    this.dataDir = resolve(options.dataDir);
    this.ffmpegPath = options.ffmpegPath ?? null;
    this.stopGraceMs = options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
    this.startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    this.ice = options.ice ?? { servers: [] };
    const [min, max] = options.rtpPortRange ?? DEFAULT_RTP_PORT_RANGE;
    this.ports = new UdpPortAllocator(min, max, RTP_HOST);
    this.spares = new WarmSpares(join(this.dataDir, 'spares'), options.warmSpares ?? true);
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

  /**
   * A client's signalling message for the streamer of the instance serving `sessionId`;
   * false when no instance here serves it (another node's, or gone).
   */
  signal(sessionId: string, generation: number, message: ClientSignal): boolean {
    const inst = [...this.instances.values()].find((i) => i.sessionId === sessionId && i.state === 'running');
    if (!inst?.streamer) return false;
    inst.streamer.signal(generation, message);
    return true;
  }

  list(): RunningInstanceInfo[] {
    return [...this.instances.values()].filter((i) => i.state === 'running').map((i) => this.info(i));
  }

  /**
   * Spawns the instance's processes; resolves once the encoder has produced its first frame
   * (and so sent its first RTP packets). On failure nothing is left running.
   */
  async start(req: NodeInstanceStartRequest): Promise<RunningInstanceInfo> {
    if (this.closing) throw new DomainError('unavailable', 'the node runtime is shutting down');
    const id = checkInstanceId(req.instance_id);
    if (req.kind !== 'test-pattern' && req.kind !== 'x11') throw invalid(`unknown application kind ${JSON.stringify(req.kind)}`);
    if (req.kind === 'x11' && (typeof req.command !== 'string' || req.command.trim() === '')) {
      throw invalid('an x11 application needs a command');
    }
    const display = checkDisplay(req);
    const encoder = checkEncoder(req);
    if (this.instances.has(id)) throw conflict(`instance ${id} is already on this node`);

    const inst = this.newInstance(id);
    this.instances.set(id, inst);
    try {
      await mkdir(inst.workDir, { recursive: true });
      await this.prepareSockets(inst);
      const caps = await probeFfmpeg(this.ffmpeg());
      const ports = await this.ports.allocate(2);
      if (inst.state !== 'starting') {
        this.ports.release(ports); // a stop() came in while we waited; its teardown missed them
        throw new Error('it was stopped while starting');
      }
      inst.ports = ports;
      const [videoPort, audioPort] = inst.ports;
      inst.media = {
        videoPort,
        audioPort,
        videoPayloadType: VIDEO_PAYLOAD_TYPE,
        audioPayloadType: AUDIO_PAYLOAD_TYPE,
        videoSsrc: randomSsrc(),
        audioSsrc: randomSsrc(),
        sdpFile: join(inst.workDir, 'stream.sdp'),
      };
      // The streamer loads (node-datachannel) while the application starts.
      const streamerReady = req.session_id ? this.startStreamer(inst, req.session_id, display) : Promise.resolve();
      streamerReady.catch(() => undefined);
      const inputs = req.kind === 'x11' ? await this.startX11(inst, req, display, caps) : await this.startTestPattern(inst, display);
      inst.encoderInput = {
        videoInput: inputs.video,
        audioInput: inputs.audio,
        fps: display.fps,
        gop: encoder.gop,
        bitrateKbps: encoder.bitrate_kbps,
        sampleRate: AUDIO_SAMPLE_RATE,
        channels: AUDIO_CHANNELS,
        host: RTP_HOST,
        ...inst.media,
        audioBitrateKbps: AUDIO_BITRATE_KBPS,
        progressPeriodSeconds: PROGRESS_PERIOD_SECONDS,
      };
      inst.encoderOnDemand = req.session_id !== undefined && inst.activateStandby !== null;
      if (inst.activateStandby) {
        // On demand: the standby loads while the first viewer signals (switchToStandby waits for it).
        this.prepareStandby(inst, caps);
        if (!inst.encoderOnDemand) await this.switchToStandby(inst, caps);
      } else {
        await this.runEncoder(inst, caps);
      }
      await this.within(inst, streamerReady, 'the streamer did not become ready');
      if (inst.state !== 'starting') throw new Error(`it was ${inst.state === 'stopping' ? 'stopped' : 'failed'} while starting`);
      inst.state = 'running';
      const info = this.info(inst);
      this.logger.log(`instance ${id} (${req.kind}) running: pids ${info.pids.join(',')}, RTP video :${videoPort} audio :${audioPort}`);
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

  /**
   * Replaces the encoder so that its first frame is an IDR (for a new viewer), without touching
   * the frame source. Resolves once the new encoder has produced its first frame. Concurrent
   * calls share one restart.
   */
  restartEncoder(instanceId: string): Promise<void> {
    const inst = this.instances.get(instanceId);
    if (!inst) return Promise.reject(notFound('instance', instanceId));
    if (inst.state !== 'running') return Promise.reject(conflict(`instance ${instanceId} is ${inst.state}, not running`));
    if (!inst.restarting) {
      inst.restarting = (async () => {
        const t0 = Date.now();
        const caps = await probeFfmpeg(this.ffmpeg());
        try {
          if (inst.activateStandby) {
            await this.switchToStandby(inst, caps);
          } else {
            const old = inst.encoder;
            // SIGKILL: an RTP output has nothing to flush, and the new viewer is waiting.
            if (old) await inst.group.stop(old, 0, 'SIGKILL');
            if (inst.state !== 'running') throw new Error(`instance ${instanceId} is ${inst.state}`);
            await this.runEncoder(inst, caps);
          }
        } catch (e) {
          // No encoder means no stream: the instance has failed (no-op if already failing).
          this.fail(inst, `the encoder did not restart: ${(e as Error).message}`);
          throw e;
        }
        this.logger.log(`instance ${instanceId}: encoder restarted in ${Date.now() - t0} ms (pid ${inst.encoder?.pid})`);
      })().finally(() => {
        inst.restarting = null;
      });
    }
    return inst.restarting;
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
      ports: [],
      media: undefined as unknown as InstanceMedia,
      encoderInput: undefined as unknown as EncoderArgsInput,
      group: undefined as unknown as ProcessGroup,
      encoder: null,
      standby: null,
      frameSourceProc: null,
      activateStandby: null,
      encoderOnDemand: false,
      sessionId: null,
      streamer: null,
      deliverInput: null,
      state: 'starting',
      broken,
      breakWith,
      exits: [],
      failReason: null,
      restarting: null,
      teardown: null,
      stopping: null,
    };
    inst.group = new ProcessGroup((proc, exit) => this.onUnexpectedExit(inst, proc, exit));
    return inst;
  }

  private workDirOf(id: string): string {
    return join(this.dataDir, 'instances', id);
  }

  private ffmpeg(): string {
    this.ffmpegPath ??= resolveFfmpegPath();
    return this.ffmpegPath;
  }

  private async prepareSockets(inst: Instance): Promise<void> {
    if (Buffer.byteLength(join(inst.workDir, 'video.sock')) > UNIX_SOCKET_PATH_MAX) {
      inst.socketDir = await mkdtemp(join(tmpdir(), 'streamstack-'));
      inst.ownsSocketDir = true;
    }
  }

  /** The frame source draws the pattern and serves it to the encoder on two unix sockets. */
  private async startTestPattern(inst: Instance, display: Display): Promise<Inputs> {
    const sockets = {
      width: display.width,
      height: display.height,
      videoSocket: join(inst.socketDir, 'video.sock'),
      audioSocket: join(inst.socketDir, 'audio.sock'),
      sampleRate: AUDIO_SAMPLE_RATE,
      channels: AUDIO_CHANNELS,
    };
    const config: FrameSourceConfig = { ...sockets, fps: display.fps, toneHz: TEST_PATTERN_TONE_HZ };
    const logFile = join(inst.workDir, 'frame-source.log');
    const proc = await this.within(inst, this.spares.take('frame-source', inst.group, logFile, inst.workDir), 'the frame source did not load');
    inst.frameSourceProc = proc;
    inst.activateStandby = () => proc.child.connected && proc.child.send({ control: 'activate' });
    inst.deliverInput = (event) => {
      if (!proc.child.connected) return;
      proc.child.send(event, (err) => {
        // The channel closing under us is reported as the frame source's exit, not here.
        if (err) this.logger.debug(`instance ${inst.id}: input not delivered: ${err.message}`);
      });
    };
    const ready = waitForReady(proc);
    sendConfig(proc.child, config);
    await this.within(inst, ready, 'the frame source did not become ready');
    return frameSourceInputs(sockets);
  }

  /**
   * Xvfb on a display of its choosing, PulseAudio with a null sink when available, the
   * application, and xdotool for input; the encoder then grabs the display.
   */
  private async startX11(inst: Instance, req: NodeInstanceStartRequest, display: Display, caps: FfmpegCapabilities): Promise<Inputs> {
    if (!caps.x11grab) throw new DomainError('unavailable', `ffmpeg at ${this.ffmpeg()} has no x11grab input`);
    const xvfb = findOnPath('Xvfb');
    const xdotool = findOnPath('xdotool');
    if (!xvfb || !xdotool) throw new DomainError('unavailable', 'x11 instances need Xvfb and xdotool on PATH');
    const log = (role: string) => join(inst.workDir, `${role}.log`);
    if (req.app_dir !== undefined && !existsSync(req.app_dir)) throw invalid(`app_dir ${req.app_dir} does not exist`);

    const server = inst.group.spawn({
      name: 'display',
      command: xvfb,
      args: ['-displayfd', '3', '-screen', '0', `${display.width}x${display.height}x24`, '-nolisten', 'tcp', '-noreset'],
      cwd: inst.workDir,
      logFile: log('display'),
      extraPipes: 1,
    });
    const fd3 = server.child.stdio[3] as Readable | null;
    if (!fd3) throw new Error('Xvfb has no display fd');
    const x = `:${await this.within(inst, readDisplayNumber(fd3), 'Xvfb did not report a display')}`;

    let pulseServer: string | null = null;
    const pulseaudio = caps.pulse ? findOnPath('pulseaudio') : null;
    if (pulseaudio) {
      const socket = join(inst.socketDir, 'pulse.sock');
      const home = join(inst.workDir, 'pulse');
      await mkdir(home, { recursive: true });
      inst.group.spawn({
        name: 'audio',
        command: pulseaudio,
        args: [
          '-n',
          '--daemonize=no',
          '--exit-idle-time=-1',
          '--use-pid-file=no',
          '--disable-shm=yes',
          '-L',
          `module-null-sink sink_name=app rate=${AUDIO_SAMPLE_RATE} channels=${AUDIO_CHANNELS}`,
          '-L',
          `module-native-protocol-unix socket=${socket} auth-anonymous=1`,
        ],
        // Its own home and runtime dir: nothing shared with other instances or the user.
        env: { ...process.env, HOME: home, XDG_RUNTIME_DIR: home, XDG_CONFIG_HOME: home },
        cwd: inst.workDir,
        logFile: log('audio'),
      });
      await this.within(inst, waitForPath(socket, this.startTimeoutMs), 'PulseAudio did not open its socket');
      pulseServer = `unix:${socket}`;
      // An idle null sink renders 2 s ahead and a new recorder (a restarted encoder) then waits
      // up to 2 s for its first audio, which holds up the whole encoder (measured 1-2 s). A
      // low-latency player of silence keeps the sink rendering in 20 ms steps (restart: ~150 ms).
      const pacat = findOnPath('pacat');
      if (pacat) {
        inst.group.spawn({
          name: 'audio-clock',
          command: pacat,
          args: ['--playback', '--raw', '--latency-msec=20', `--rate=${AUDIO_SAMPLE_RATE}`, `--channels=${AUDIO_CHANNELS}`, '--format=s16le', '/dev/zero'],
          env: { ...process.env, PULSE_SERVER: pulseServer },
          cwd: inst.workDir,
          logFile: log('audio'),
        });
      }
    }

    const appEnv: NodeJS.ProcessEnv = { ...process.env, DISPLAY: x };
    if (pulseServer) appEnv.PULSE_SERVER = pulseServer;
    else delete appEnv.PULSE_SERVER;
    inst.group.spawn({
      name: 'app',
      command: '/bin/sh',
      args: ['-c', req.command ?? ''],
      env: appEnv,
      cwd: req.app_dir ?? inst.workDir,
      logFile: log('app'),
    });

    const input = inst.group.spawn({
      name: 'input',
      command: xdotool,
      args: ['-'],
      env: { ...process.env, DISPLAY: x },
      cwd: inst.workDir,
      logFile: log('input'),
      pipeStdin: true,
    });
    const translate = new XdotoolInput(display.width, display.height);
    const stdin = input.child.stdin;
    stdin?.on('error', () => undefined); // xdotool gone: reported as its exit
    inst.deliverInput = (event) => {
      const lines = translate.commands(event);
      if (lines.length && stdin?.writable) stdin.write(`${lines.join('\n')}\n`);
    };

    return x11Inputs({
      display: x,
      width: display.width,
      height: display.height,
      fps: display.fps,
      pulseServer,
      pulseSource: 'app.monitor',
      sampleRate: AUDIO_SAMPLE_RATE,
      channels: AUDIO_CHANNELS,
    });
  }

  /** Spawns ffmpeg and waits for its first encoded frame. */
  private async runEncoder(inst: Instance, caps: FfmpegCapabilities): Promise<void> {
    const { proc, framed } = this.spawnEncoder(inst, caps);
    inst.encoder = proc;
    await this.within(inst, framed, 'the encoder produced no frame');
  }

  /**
   * The instance's WebRTC peer: binds the encoder's RTP ports, answers the session's
   * signalling, forwards RTP to its tracks and input to the application.
   */
  private async startStreamer(inst: Instance, sessionId: string, display: Display): Promise<void> {
    const config: StreamerConfig = {
      videoPort: inst.media.videoPort,
      audioPort: inst.media.audioPort,
      videoPayloadType: inst.media.videoPayloadType,
      audioPayloadType: inst.media.audioPayloadType,
      videoSsrc: inst.media.videoSsrc,
      audioSsrc: inst.media.audioSsrc,
      fps: display.fps,
      width: display.width,
      height: display.height,
      iceServers: this.ice.servers,
      ...(this.ice.bindAddress ? { bindAddress: this.ice.bindAddress } : {}),
      ...(this.ice.portRange ? { portRange: this.ice.portRange } : {}),
    };
    const logFile = join(inst.workDir, 'streamer.log');
    const proc = await this.within(inst, this.spares.take('streamer', inst.group, logFile, inst.workDir), 'the streamer did not load');
    const streamer = StreamerProcess.attach(proc.child);
    inst.sessionId = sessionId;
    inst.streamer = streamer;
    const tell = (ev: StreamerEvent) => this.streamerListeners.forEach((l) => l(ev));
    streamer.on('signal', (generation, message) => tell({ instance_id: inst.id, session_id: sessionId, kind: 'signal', generation, message }));
    streamer.on('client-state', (generation, state) => tell({ instance_id: inst.id, session_id: sessionId, kind: 'client-state', generation, state }));
    streamer.on('input', (event) => inst.deliverInput?.(event));
    streamer.on('keyframe', (reason) => {
      this.restartEncoder(inst.id).catch((e: unknown) =>
        this.logger.warn(`instance ${inst.id}: no keyframe for the viewer (${reason}): ${(e as Error).message}`),
      );
    });
    streamer.on('log', (level, message) => this.logger[level === 'error' ? 'error' : level === 'warn' ? 'warn' : 'debug'](`instance ${inst.id} streamer: ${message}`));
    sendConfig(proc.child, config);
    await streamer.ready;
  }

  private spawnEncoder(inst: Instance, caps: FfmpegCapabilities): { proc: SupervisedProcess; framed: Promise<void> } {
    const proc = inst.group.spawn({
      name: 'encoder',
      command: this.ffmpeg(),
      args: buildEncoderArgs(inst.encoderInput, caps),
      cwd: inst.workDir,
      logFile: join(inst.workDir, 'encoder.log'),
      pipeStdout: true,
    });
    // Listen from the start: its progress output is read from the first line.
    const framed = firstFrame(proc);
    framedOf.set(proc, framed);
    return { proc, framed };
  }

  /** Starts the next standby encoder: ffmpeg loaded and connected to the frame source. */
  private prepareStandby(inst: Instance, caps: FfmpegCapabilities): void {
    const { proc } = this.spawnEncoder(inst, caps);
    inst.standby = { proc, connected: waitForMessage(inst.frameSourceProc!, 'standby') };
    inst.standby.connected.catch(() => undefined);
  }

  /**
   * Makes the standby encoder the live one (its first frame is an IDR, ~20 ms after the
   * switch), retires the old one and loads the next standby in the background.
   */
  private async switchToStandby(inst: Instance, caps: FfmpegCapabilities): Promise<void> {
    if (!inst.standby) this.prepareStandby(inst, caps);
    const next = inst.standby!;
    await this.within(inst, next.connected, 'the encoder did not connect to the frame source');
    inst.standby = null;
    const old = inst.encoder;
    inst.encoder = next.proc;
    inst.activateStandby!();
    // SIGKILL: an RTP output has nothing to flush.
    if (old) void inst.group.stop(old, 0, 'SIGKILL');
    await this.within(inst, framedOf.get(next.proc)!, 'the encoder produced no frame');
    if (inst.state === 'running' || inst.state === 'starting') this.prepareStandby(inst, caps);
  }

  /** Races `work` against the instance breaking and the start timeout. */
  private async within<T>(inst: Instance, work: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const last = inst.group.alive.at(-1) ?? null;
        void this.outputOf(last).then((out) =>
          reject(new Error(`${what} within ${this.startTimeoutMs} ms${out}`)),
        );
      }, this.startTimeoutMs);
    });
    try {
      return await Promise.race([work, inst.broken, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private onUnexpectedExit(inst: Instance, proc: SupervisedProcess, exit: ProcessExit): void {
    if (inst.state === 'stopping' || inst.teardown) return;
    inst.exits.push({ proc, exit });
    if (inst.exits.length > 1) return; // the first one already scheduled the verdict
    const wasRunning = inst.state === 'running';
    inst.state = 'failed';
    // Processes of one instance often die together (the frame source dies, so ffmpeg's input
    // ends and it exits 0 too). Wait a moment and blame the most upstream one.
    setTimeout(() => {
      void (async () => {
        const ranked = [...inst.exits].sort((a, b) => rank(a.proc) - rank(b.proc));
        const cause = ranked[0];
        const others = ranked.slice(1).map((e) => e.proc.describe(e.exit));
        const reason =
          `${cause.proc.describe(cause.exit)}${await this.outputOf(cause.proc)}` +
          (others.length ? `; then ${others.join('; ')}` : '');
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
      await inst.group.stopAll(this.stopGraceMs);
      this.ports.release(inst.ports);
      if (inst.ownsSocketDir) await rm(inst.socketDir, { recursive: true, force: true });
      else {
        // A SIGKILLed frame source cannot remove its sockets.
        await Promise.all(['video.sock', 'audio.sock', 'pulse.sock'].map((f) => rm(join(inst.socketDir, f), { force: true })));
      }
      if (this.instances.get(inst.id) === inst) this.instances.delete(inst.id);
    })();
    return inst.teardown;
  }

  private info(inst: Instance): RunningInstanceInfo {
    return {
      instance_id: inst.id,
      pids: inst.group.alive.map((p) => p.pid),
      media: { ...inst.media },
    };
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

function checkInstanceId(id: unknown): string {
  if (typeof id !== 'string' || !INSTANCE_ID_PATTERN.test(id)) {
    throw invalid(`instance_id must match ${INSTANCE_ID_PATTERN} (it names a directory)`);
  }
  return id;
}

function checkDisplay(req: NodeInstanceStartRequest): Display {
  const d = req.display;
  const int = (v: unknown, min: number, max: number, name: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalid(`${name} must be an integer in ${min}..${max}`);
    return v;
  };
  // 4:2:0 H.264 needs even dimensions: drop the odd last column/row rather than refuse.
  return {
    width: int(d?.width, 2, 3840, 'display.width') & ~1,
    height: int(d?.height, 2, 2160, 'display.height') & ~1,
    fps: int(d?.fps, 1, 60, 'display.fps'),
  };
}

function checkEncoder(req: NodeInstanceStartRequest): { bitrate_kbps: number; gop: number } {
  const e = req.encoder;
  if (e?.codec !== 'h264') throw invalid('encoder.codec must be h264');
  if (!Number.isInteger(e.bitrate_kbps) || e.bitrate_kbps < 1) throw invalid('encoder.bitrate_kbps must be a positive integer');
  if (!Number.isInteger(e.gop) || e.gop < 1) throw invalid('encoder.gop must be a positive integer');
  return { bitrate_kbps: e.bitrate_kbps, gop: e.gop };
}

function randomSsrc(): number {
  return randomInt(1, 0xffffffff);
}

/** Polls for a file (a daemon's socket) until it exists or `ms` have passed. */
async function waitForPath(path: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!existsSync(path) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

/** Each encoder's first-frame promise, made when it is spawned. */
const framedOf = new WeakMap<SupervisedProcess, Promise<void>>();

/** Resolves on the next IPC message `{type}` from the process. */
function waitForMessage(proc: SupervisedProcess, type: string): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (m: unknown): void => {
      if ((m as { type?: unknown } | null)?.type === type) {
        proc.child.off('message', onMessage);
        resolve();
      }
    };
    proc.child.on('message', onMessage);
  });
}

function waitForReady(proc: SupervisedProcess): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (m: unknown): void => {
      if ((m as { type?: unknown } | null)?.type === 'ready') {
        proc.child.off('message', onMessage);
        resolve();
      }
    };
    proc.child.on('message', onMessage);
  });
}

/**
 * Resolves at ffmpeg's first `frame=N` (N > 0) progress report. Its stdout keeps being read
 * (and dropped) afterwards, or ffmpeg would block on a full pipe.
 */
function firstFrame(proc: SupervisedProcess): Promise<void> {
  return new Promise((resolve) => {
    const stdout = proc.child.stdout;
    if (!stdout) return;
    let seen = false;
    let pending = '';
    stdout.setEncoding('utf8');
    stdout.on('data', (chunk: string) => {
      if (seen) return;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^frame=\s*(\d+)/.exec(line);
        if (m && Number(m[1]) > 0) {
          seen = true;
          pending = '';
          resolve();
          return;
        }
      }
    });
  });
}
