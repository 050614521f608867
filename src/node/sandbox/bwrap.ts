import { execFile } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import type { NetworkMode } from '@streamstack/contracts';
import { findOnPath } from '../supervisor/executables';

/** STREAMSTACK_INSTANCE_SANDBOX: `on` (the default) or `off`, which an operator chooses by name. */
export type SandboxMode = 'on' | 'off';

/** Inside the sandbox: who the application is, and where its things are. */
export const SANDBOX = {
  uid: 1000,
  gid: 1000,
  home: '/home/app',
  app: '/app',
  pulseSocket: '/run/streamstack/pulse',
  channels: '/run/streamstack/channels',
  path: '/usr/local/bin:/usr/bin:/bin',
} as const;

/** The parts of /etc a desktop program reads (libraries, fonts, locale, X keymaps), read-only. */
const ETC = ['alternatives', 'fonts', 'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'localtime', 'nsswitch.conf', 'X11', 'xdg', 'mime.types', 'ssl', 'ca-certificates'];

export interface SandboxSpec {
  /** The application's shell command. */
  command: string;
  /** Its private writable home (`/home/app` inside); its `/tmp` is a fresh tmpfs. */
  homeDir: string;
  /** Its package, read-only at `/app` (and its working directory). */
  appDir?: string;
  /** The X display (`:N`): only that display's socket is bound in. */
  display: string;
  /** The PulseAudio socket to bind in, if any. */
  pulseSocket: string | null;
  /** The PulseAudio source the driver's microphone plays into: the application's default one. */
  micSource?: string;
  /** The data channels' socket directory (PROTOCOL.md §5a). */
  channelDir: string;
  /** Device nodes of its own to bind in (its virtual gamepad's /dev/input/eventN). */
  devices?: string[];
  /** `/etc/passwd` and `/etc/group` of the sandbox, naming its one user. */
  passwdFile: string;
  groupFile: string;
  /** The manifest's own variables. */
  env?: Record<string, string>;
  /**
   * `outbound`: its network namespace is connected to the world by pasta (outbound-network.ts),
   * so bwrap reports its child's pid on fd 3 and waits for a byte on fd 4 before the
   * application runs; `resolvConf` becomes its /etc/resolv.conf.
   */
  network: NetworkMode;
  resolvConf?: string;
}

/** What to spawn: bwrap and its arguments, with an environment that carries nothing of the server's. */
export interface SandboxedCommand {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/**
 * The environment the application sees (DESIGN.md "Instance sandbox"): its display, its sound
 * server, its data channels' directory, its home, PATH and LANG, and the manifest's own; nothing else.
 */
export function applicationEnv(spec: Pick<SandboxSpec, 'display' | 'pulseSocket' | 'micSource' | 'channelDir' | 'env'>, sandboxed: boolean, homeDir: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: sandboxed ? SANDBOX.path : (process.env.PATH ?? SANDBOX.path),
    LANG: process.env.LANG ?? 'C.UTF-8',
    // The manifest may change PATH and LANG, never what locates the application's own things.
    ...spec.env,
    DISPLAY: spec.display,
    HOME: sandboxed ? SANDBOX.home : homeDir,
    STREAMSTACK_DATA_CHANNELS: sandboxed ? SANDBOX.channels : spec.channelDir,
  };
  if (spec.pulseSocket) {
    env.PULSE_SERVER = `unix:${sandboxed ? SANDBOX.pulseSocket : spec.pulseSocket}`;
    if (spec.micSource) env.PULSE_SOURCE = spec.micSource; // what it records by default
  }
  return env;
}

/**
 * bubblewrap with user, pid, ipc, uts, cgroup and network namespaces: the application runs as
 * uid 1000 and sees /usr and a few files of /etc read-only, its package read-only, a private
 * home and /tmp, its own X socket and PulseAudio socket, and nothing else: no data directory,
 * no other instance, no route to the host's ports (its network namespace has only loopback).
 * bwrap itself starts with an empty environment: its pid 1 would otherwise show the server's
 * in /proc/1/environ. With `network: outbound` the namespace gets a route out (pasta) before
 * the application starts; the host's loopback stays out of reach.
 */
export function bwrapCommand(bwrap: string, spec: SandboxSpec): SandboxedCommand {
  const args = [...namespaces(), ...systemBinds(), '--die-with-parent', '--new-session'];
  for (const name of ETC) args.push('--ro-bind-try', `/etc/${name}`, `/etc/${name}`);
  args.push('--ro-bind', spec.passwdFile, '/etc/passwd', '--ro-bind', spec.groupFile, '/etc/group');
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  args.push('--bind', spec.homeDir, SANDBOX.home);
  const displayNumber = spec.display.replace(/^:/, '').split('.')[0];
  args.push('--bind', `/tmp/.X11-unix/X${displayNumber}`, `/tmp/.X11-unix/X${displayNumber}`);
  if (spec.pulseSocket) args.push('--bind', spec.pulseSocket, SANDBOX.pulseSocket);
  args.push('--bind', spec.channelDir, SANDBOX.channels);
  for (const device of spec.devices ?? []) args.push('--dev-bind', device, device);
  if (spec.network === 'outbound') {
    if (spec.resolvConf) args.push('--ro-bind', spec.resolvConf, '/etc/resolv.conf');
    args.push('--ro-bind-try', '/etc/hosts', '/etc/hosts', '--info-fd', '3', '--block-fd', '4');
  }
  if (spec.appDir) args.push('--ro-bind', spec.appDir, SANDBOX.app, '--chdir', SANDBOX.app);
  else args.push('--chdir', SANDBOX.home);
  args.push('--clearenv');
  for (const [k, v] of Object.entries(applicationEnv(spec, true, spec.homeDir))) args.push('--setenv', k, v);
  args.push('/bin/sh', '-c', spec.command);
  return { command: bwrap, args, env: { PATH: SANDBOX.path } };
}

/** A new namespace of every kind, as the sandbox's user. */
const namespaces = () => ['--unshare-all', '--uid', String(SANDBOX.uid), '--gid', String(SANDBOX.gid)];

/** /usr read-only, and /bin, /lib… as they are on the host (Debian: symlinks into /usr). */
function systemBinds(): string[] {
  const args = ['--ro-bind', '/usr', '/usr'];
  for (const top of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
    const path = `/${top}`;
    if (!existsSync(path)) continue;
    if (lstatSync(path).isSymbolicLink()) args.push('--symlink', readlinkSync(path), path);
    else args.push('--ro-bind', path, path);
  }
  return args;
}

export const passwdLines = () => ({
  passwd: `app:x:${SANDBOX.uid}:${SANDBOX.gid}:streamstack application:${SANDBOX.home}:/bin/sh\n`,
  group: `app:x:${SANDBOX.gid}:\n`,
});

let probed: Promise<string | null> | null = null;

/**
 * Whether bubblewrap can make a sandbox here (user namespaces allowed, bwrap installed): null
 * if so, else why not. Asked once per process.
 */
export function sandboxProblem(): Promise<string | null> {
  probed ??= new Promise((resolve) => {
    const bwrap = findOnPath('bwrap');
    if (!bwrap) return resolve('bubblewrap (bwrap) is not installed (Debian: apt-get install bubblewrap)');
    execFile(bwrap, [...namespaces(), ...systemBinds(), 'true'], { env: { PATH: SANDBOX.path }, timeout: 10_000 }, (err, _out, stderr) =>
      resolve(err ? `bubblewrap cannot create namespaces here (${(stderr || err.message).trim()}; user namespaces may be disabled: sysctl kernel.unprivileged_userns_clone / user.max_user_namespaces)` : null),
    );
  });
  return probed;
}
