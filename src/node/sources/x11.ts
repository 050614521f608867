import { existsSync } from 'node:fs';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { DomainError, invalid, Limits, type NetworkMode } from '@streamstack/contracts';
import { pollUntil } from '../../common/poll';
import { applicationEnv, bwrapCommand, passwdLines, sandboxProblem } from '../sandbox/bwrap';
import { limitCommand } from '../sandbox/cgroups';
import { connectOutbound, resolvConf } from '../sandbox/outbound-network';
import { childEnv } from '../supervisor/child-env';
import { startDesktop } from './desktop/start-desktop';
import { gamepadProblem, startVirtualGamepad } from './virtual-gamepad';
import { findOnPath } from '../supervisor/executables';
import type { SourceContext, StartedSource } from './source-context';
import { SDK_KEYSYMS } from './sdk-keys';

/** The null sink the application plays into; the media process records its monitor. */
const PULSE_SINK = 'app';
/** The null sink the driver's microphone plays into; its monitor is the application's default source. */
const MIC_SINK = 'mic';

/**
 * Xvfb `-displayfd N` picks a free display itself (no guessing, no race with other servers)
 * and writes its number to fd N once it accepts connections.
 */
export function readDisplayNumber(stream: Readable): Promise<number> {
  return new Promise((resolve) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      text += chunk;
      const m = /^(\d+)\n/.exec(text);
      if (m) resolve(Number(m[1]));
    });
  });
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const clamp = (v: number, max: number): number => Math.max(0, Math.min(max - 1, Math.round(v)));

/**
 * Turns PROTOCOL.md §5 input events into `xdotool -` commands (one per line, executed as they
 * arrive), injected through XTest. Key codes are the Anbox SDK's table (sdk-keys.ts), sent as
 * keysyms. Touch drives the pointer, following the first contact until it
 * ends; gamepads have no X11 equivalent and are dropped. Anything malformed yields nothing.
 */
export class XdotoolInput {
  private touch: unknown = null;

  constructor(
    private width: number,
    private height: number,
  ) {}

  /** The display changed size: coordinates are clamped to the new one. */
  resize(width: number, height: number): void {
    this.width = width;
    this.height = height;
  }

  commands(event: { type: string; data: unknown }): string[] {
    const d = (typeof event.data === 'object' && event.data !== null ? event.data : {}) as Record<string, unknown>;
    const x = num(d.x);
    const y = num(d.y);
    const at = (): string[] => (x === null || y === null ? [] : [`mousemove ${clamp(x, this.width)} ${clamp(y, this.height)}`]);
    switch (event.type) {
      case 'input::mouse-move':
        return at();
      case 'input::mouse-button': {
        const button = num(d.button);
        if (button === null || ![1, 2, 3].includes(button)) return [];
        return [`${d.pressed ? 'mousedown' : 'mouseup'} ${button}`];
      }
      case 'input::mouse-wheel': {
        // X buttons 4/5 scroll up/down, 6/7 left/right; one click per event.
        const out: string[] = [];
        if (y !== null && y !== 0) out.push(`click ${y < 0 ? 4 : 5}`);
        if (x !== null && x !== 0) out.push(`click ${x < 0 ? 6 : 7}`);
        return out;
      }
      case 'input::key': {
        const keysym = typeof d.code === 'number' ? SDK_KEYSYMS.get(d.code) : undefined;
        return keysym ? [`${d.pressed ? 'keydown' : 'keyup'} ${keysym}`] : [];
      }
      case 'input::touch-start':
        if (this.touch !== null) return [];
        this.touch = d.id;
        return [...at(), 'mousedown 1'];
      case 'input::touch-move':
        return this.touch !== null && d.id === this.touch ? at() : [];
      case 'input::touch-end':
      case 'input::touch-cancel':
        if (this.touch === null || d.id !== this.touch) return [];
        this.touch = null;
        return ['mouseup 1'];
      default:
        return [];
    }
  }
}

/** What the manifest says of an x11 application. */
export interface X11App {
  command: string;
  /** Its package's files, if it came as a package. */
  appDir?: string;
  env?: Record<string, string>;
  network?: NetworkMode;
}

/**
 * An x11 instance's display side: Xvfb on a display of its choosing, PulseAudio with a null
 * sink when available, the application, and xdotool for input. The media process captures the
 * display (x11grab) and the sink's monitor (parec) itself.
 */
export async function startX11(ctx: SourceContext, spec: X11App): Promise<StartedSource> {
  const { command, appDir } = spec;
  const network = spec.network ?? 'none';
  const xvfb = findOnPath('Xvfb');
  const xdotool = findOnPath('xdotool');
  if (!xvfb || !xdotool) throw new DomainError('unavailable', 'x11 instances need Xvfb and xdotool on PATH');
  if (appDir !== undefined && !existsSync(appDir)) throw invalid(`app_dir ${appDir} does not exist`);
  // Untrusted code runs sandboxed, or not at all unless the operator said so by name.
  const bwrap = ctx.sandbox === 'on' ? findOnPath('bwrap') : null;
  if (ctx.sandbox === 'on') {
    const problem = await sandboxProblem();
    if (problem) throw new DomainError('unavailable', `x11 instances run in a sandbox, and none can be made here: ${problem}. STREAMSTACK_INSTANCE_SANDBOX=off runs them without one (only for applications you trust)`);
  }
  const pasta = bwrap && network === 'outbound' ? findOnPath('pasta') : null;
  if (bwrap && network === 'outbound' && !pasta) throw new DomainError('unavailable', 'this application asks for network: outbound, which needs pasta on PATH (Debian: apt-get install passt)');
  const log = (role: string) => join(ctx.workDir, `${role}.log`);

  // Xvfb's screen can shrink and grow back only within the size it started at: start at the
  // largest, and the desktop helper sets the instance's size before anything draws.
  const server = ctx.group.spawn({
    name: 'display',
    command: xvfb,
    args: ['-displayfd', '3', '-screen', '0', `${Limits.screen.maxWidth}x${Limits.screen.maxHeight}x24`, '-nolisten', 'tcp', '-noreset'],
    env: childEnv(),
    cwd: ctx.workDir,
    logFile: log('display'),
    extraPipes: 1,
  });
  const fd3 = server.child.stdio[3] as Readable | null;
  if (!fd3) throw new Error('Xvfb has no display fd');
  const display = `:${await ctx.within(readDisplayNumber(fd3), 'Xvfb did not report a display')}`;
  const desktop = await startDesktop(ctx, display);

  let pulseSocket: string | null = null;
  const pulseaudio = findOnPath('pulseaudio');
  if (pulseaudio && findOnPath('parec')) {
    const socket = join(ctx.socketDir, 'pulse.sock');
    const home = join(ctx.workDir, 'pulse');
    await mkdir(home, { recursive: true });
    ctx.group.spawn({
      name: 'audio',
      command: pulseaudio,
      args: [
        '-n',
        '--daemonize=no',
        '--exit-idle-time=-1',
        '--use-pid-file=no',
        '--disable-shm=yes',
        '-L',
        `module-null-sink sink_name=${PULSE_SINK} rate=48000 channels=2`,
        '-L',
        `module-null-sink sink_name=${MIC_SINK} rate=48000 channels=2 sink_properties=device.description=microphone`,
        '-L',
        `module-native-protocol-unix socket=${socket} auth-anonymous=1`,
      ],
      // Its own home and runtime dir: nothing shared with other instances or the user.
      env: childEnv({ HOME: home, XDG_RUNTIME_DIR: home, XDG_CONFIG_HOME: home }),
      cwd: ctx.workDir,
      logFile: log('audio'),
    });
    await ctx.within(pollUntil(() => existsSync(socket), ctx.startTimeoutMs, 'its socket'), 'PulseAudio did not open its socket');
    pulseSocket = socket;
  }

  const micSource = pulseSocket ? `${MIC_SINK}.monitor` : undefined;
  // Before the application: its sandbox binds the pad's device node.
  const gamepad = gamepadProblem() === null ? await startVirtualGamepad(ctx) : null;
  // The application's own home: private to it, kept with the instance's other files.
  const homeDir = join(ctx.workDir, 'home');
  await mkdir(homeDir, { recursive: true, mode: 0o700 });
  let app: { command: string; args: string[]; env: NodeJS.ProcessEnv; cwd: string };
  if (bwrap) {
    const passwdFile = join(ctx.workDir, 'passwd');
    const groupFile = join(ctx.workDir, 'group');
    const resolvFile = join(ctx.workDir, 'resolv.conf');
    const lines = passwdLines();
    await Promise.all([
      writeFile(passwdFile, lines.passwd, { mode: 0o644 }),
      writeFile(groupFile, lines.group, { mode: 0o644 }),
      network === 'outbound' && writeFile(resolvFile, resolvConf(), { mode: 0o644 }),
    ]);
    const sandbox = { command, homeDir, appDir, display, pulseSocket, micSource, channelDir: ctx.channelDir, devices: gamepad ? [gamepad.device] : [], passwdFile, groupFile, env: spec.env, network, resolvConf: resolvFile };
    app = { ...bwrapCommand(bwrap, sandbox), cwd: ctx.workDir };
  } else {
    app = { command: '/bin/sh', args: ['-c', command], env: applicationEnv({ display, pulseSocket, micSource, channelDir: ctx.channelDir, env: spec.env }, false, homeDir), cwd: appDir ?? homeDir };
  }
  // The manifest's resources become the application's limits (not the display's or the media process's).
  const limited = ctx.resources ? limitCommand(ctx.instanceId, ctx.resources, app.command, app.args) : null;
  if (limited) await appendFile(log('app'), `--- ${limited.summary}\n`);
  const appProc = ctx.group.spawn({
    name: 'app',
    ...app,
    ...(limited && { command: limited.command, args: limited.args, explainExit: () => limited.explainExit() }),
    logFile: log('app'),
    // bwrap's --info-fd and --block-fd, for pasta to connect its namespace first.
    extraPipes: pasta ? 2 : 0,
  });
  void appProc.exited.then(() => limited?.release());
  if (pasta) {
    await connectOutbound({ group: ctx.group, pasta, sandbox: appProc, cwd: ctx.workDir, logFile: log('network'), env: childEnv(), timeoutMs: ctx.startTimeoutMs, within: ctx.within });
  }

  const input = ctx.group.spawn({
    name: 'input',
    command: xdotool,
    args: ['-'],
    env: childEnv({ DISPLAY: display }),
    cwd: ctx.workDir,
    logFile: log('input'),
    pipeStdin: true,
  });
  const translate = new XdotoolInput(ctx.width, ctx.height);
  const stdin = input.child.stdin;
  stdin?.on('error', () => undefined); // xdotool gone: reported as its exit
  return {
    media: { kind: 'x11', display, pulseServer: pulseSocket && `unix:${pulseSocket}`, pulseSource: `${PULSE_SINK}.monitor`, ...(pulseSocket ? { micSink: MIC_SINK } : {}) },
    deliverInput: (event) => {
      if (gamepad && event.type.startsWith('input::gamepad-')) return gamepad.deliver(event);
      const lines = translate.commands(event);
      if (lines.length && stdin?.writable) stdin.write(`${lines.join('\n')}\n`);
    },
    desktop,
    resized: (width, height) => translate.resize(width, height),
    gamepad: gamepad !== null,
  };
}
