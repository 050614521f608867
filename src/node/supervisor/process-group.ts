import { ChildProcess, spawn, StdioOptions } from 'node:child_process';
import { accessSync, appendFileSync, closeSync, constants, existsSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { settlesWithin } from '../../common/poll';
import { childEnv } from './child-env';

export interface ProcessSpec {
  /** Role in the instance, used in logs and failure reasons: `frame-source`, `streamer`. */
  name: string;
  command: string;
  args: string[];
  cwd: string;
  /** stdout and stderr are appended here (one file per role, kept across restarts). */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** Open a Node IPC channel (the child must be a node process). */
  ipc?: boolean;
  /** Give the child a stdin pipe we write to (xdotool's command stream). */
  pipeStdin?: boolean;
  /** Extra pipes from the child at fd 3.. (Xvfb's -displayfd). */
  extraPipes?: number;
  /** Why it ended, when the supervisor knows better than its exit status (a limit it hit). */
  explainExit?: () => string | null;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  error?: Error;
  /** Set when a live process reported that it cannot go on (the media process's `fatal`). */
  failure?: string;
  /** We asked for it (stop, restart, the instance already failed). */
  expected: boolean;
  /** Why it ended as the supervisor knows it, read when it ended (ProcessSpec.explainExit). */
  explained?: string;
}

/**
 * Every child this module started and has not seen exit, across all groups: if our own process
 * exits (normally or through process.exit) they are SIGKILLed on the way out. A SIGKILL of
 * this process cannot run that hook: then the parent-death signal (see parentDeathWrapper)
 * kills them, and failing that the children notice on their own (the frame source exits when
 * its IPC channel closes, the streamer likewise, xdotool when its stdin does).
 */
const live = new Set<SupervisedProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const p of live) p.signal('SIGKILL');
  });
}

/** One child process, in its own process group so that it and anything it forks die together. */
export class SupervisedProcess {
  readonly exited: Promise<ProcessExit>;
  private expected = false;
  private result: ProcessExit | null = null;
  private settle!: (exit: ProcessExit) => void;

  /** `name`, `logFile` and `owner` change when another group adopts the process. */
  constructor(
    public name: string,
    readonly child: ChildProcess,
    public logFile: string,
    readonly command: string,
    public owner: ProcessGroup,
    private readonly explainExit?: () => string | null,
  ) {
    this.exited = new Promise((resolve) => (this.settle = resolve));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.result === null;
  }

  get exit(): ProcessExit | null {
    return this.result;
  }

  /** From now on its exit is not a failure. */
  expectExit(): void {
    this.expected = true;
  }

  /** Signals the whole process group (detached children lead their own group). */
  signal(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || this.result) return;
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  }

  /** `frame-source [node] (pid 123) was killed by SIGKILL`: what a person needs to act on. */
  describe(exit: ProcessExit): string {
    const who = `${this.name} [${basename(this.command)}] (pid ${this.child.pid ?? '-'})`;
    if (exit.explained && !exit.expected) return `${who} ${exit.explained}`;
    if (exit.error) return `${this.name} [${this.command}] could not be started: ${exit.error.message}`;
    if (exit.failure) return `${who} failed: ${exit.failure}`;
    if (exit.signal) return `${who} was killed by ${exit.signal}`;
    return `${who} exited with code ${exit.code}`;
  }

  /** @internal called by the group once the child is gone. */
  finish(exit: Omit<ProcessExit, 'expected'>): ProcessExit | null {
    if (this.result) return null;
    // Kill whatever the child may have left in its group before forgetting about it.
    if (this.child.pid !== undefined) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        // the usual case: nothing left
      }
    }
    // Asked now: what explains it (a cgroup's counters) may be gone by the time someone asks.
    const explained = this.explainExit?.() ?? undefined;
    this.result = { ...exit, expected: this.expected, ...(explained ? { explained } : {}) };
    live.delete(this);
    this.settle(this.result);
    return this.result;
  }
}

/**
 * The processes of one instance. Reports the first exit nobody asked for; stops members with
 * SIGTERM, then SIGKILL after a grace period.
 */
export class ProcessGroup {
  private readonly members = new Set<SupervisedProcess>();
  /** Set by stopAll(): a process spawned after it would escape the stop. */
  private closed = false;

  constructor(private readonly onUnexpectedExit: (proc: SupervisedProcess, exit: ProcessExit) => void) {}

  get alive(): SupervisedProcess[] {
    return [...this.members].filter((p) => p.alive);
  }

  spawn(spec: ProcessSpec): SupervisedProcess {
    if (this.closed) throw new Error(`not starting ${spec.name}: its instance is being stopped`);
    appendFileSync(spec.logFile, `--- ${new Date().toISOString()} starting ${spec.name}: ${spec.command} ${spec.args.join(' ')}\n`);
    const fd = openSync(spec.logFile, 'a');
    let child: ChildProcess;
    try {
      const stdio: StdioOptions = [spec.pipeStdin ? 'pipe' : 'ignore', fd, fd];
      for (let i = 0; i < (spec.extraPipes ?? 0); i++) stdio.push('pipe');
      if (spec.ipc) stdio.push('ipc');
      const wrapper = parentDeathWrapper();
      // detached: own process group (setsid), so a stop reaches the child's own children too.
      child = spawn(wrapper ? wrapper[0] : spec.command, wrapper ? [...wrapper.slice(1), spec.command, ...spec.args] : spec.args, {
        cwd: spec.cwd,
        env: spec.env ?? childEnv(),
        stdio,
        detached: true,
      });
    } finally {
      closeSync(fd); // the child holds its own copy
    }
    const proc = new SupervisedProcess(spec.name, child, spec.logFile, spec.command, this, spec.explainExit);
    this.members.add(proc);
    installExitHook();
    if (child.pid !== undefined) live.add(proc);
    const done = (exit: Omit<ProcessExit, 'expected'>): void => {
      const result = proc.finish(exit);
      const owner = proc.owner; // the group it belongs to now, which may have adopted it
      owner.members.delete(proc);
      if (result) {
        noteExit(proc.logFile, `--- ${new Date().toISOString()} ${proc.describe(result)}${result.expected ? ' (requested)' : ''}\n`);
        if (!result.expected) owner.onUnexpectedExit(proc, result);
      }
    };
    child.once('exit', (code, signal) => done({ code, signal }));
    child.on('error', (error) => {
      // 'error' also reports failed kill()/send(); only a child that never started is an exit.
      if (child.pid === undefined) done({ code: null, signal: null, error });
    });
    return proc;
  }

  /**
   * Takes over a live member of another group (a warm spare) as `name`: its exit is reported
   * here from now on, and its log file moves to `logFile` (the child keeps writing to it).
   */
  adopt(proc: SupervisedProcess, name: string, logFile: string): SupervisedProcess {
    if (this.closed) throw new Error(`not taking ${name}: its instance is being stopped`);
    if (!proc.alive) throw new Error(`${proc.describe(proc.exit!)} before it could be used`);
    proc.owner.members.delete(proc);
    // The child appends (O_APPEND) to the spare's file. An earlier run of the instance left a
    // log of that name: put it first, so the role's log stays one file across restarts.
    if (existsSync(logFile)) writeFileSync(proc.logFile, Buffer.concat([readFileSync(logFile), readFileSync(proc.logFile)]));
    renameSync(proc.logFile, logFile);
    appendFileSync(logFile, `--- ${new Date().toISOString()} taking ${proc.name} (pid ${proc.pid}) as ${name}\n`);
    proc.name = name;
    proc.logFile = logFile;
    proc.owner = this;
    this.members.add(proc);
    return proc;
  }

  /** Stops one member: `firstSignal`, then SIGKILL if it is still there after `graceMs`. */
  async stop(proc: SupervisedProcess, graceMs: number, firstSignal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    proc.expectExit();
    if (!proc.alive) return;
    proc.signal(firstSignal);
    if (firstSignal !== 'SIGKILL' && !(await settlesWithin(proc.exited, graceMs))) proc.signal('SIGKILL');
    // A SIGKILLed process is reaped within milliseconds; the bound only guards against a hang.
    await settlesWithin(proc.exited, 5000);
  }

  /**
   * Stops every member, those `first` selects before the rest (each set in parallel): a reader of
   * the others' output stopped first does not see its inputs vanish and call that a failure.
   * Nothing is left running when it resolves.
   */
  async stopAll(graceMs: number, first: (p: SupervisedProcess) => boolean = () => false): Promise<void> {
    this.closed = true;
    const members = [...this.members];
    for (const p of members) p.expectExit();
    await Promise.all(members.filter(first).map((p) => this.stop(p, graceMs)));
    await Promise.all(members.filter((p) => !first(p)).map((p) => this.stop(p, graceMs)));
  }
}

let wrapperCache: string[] | null | undefined;
/**
 * `setpriv --pdeathsig KILL --` (util-linux) when there is one: it sets PR_SET_PDEATHSIG and
 * execs the command (same pid), so the kernel kills the child if we die, even by SIGKILL.
 * Without it the children rely on noticing on their own (IPC channel, input EOF).
 */
function parentDeathWrapper(): string[] | null {
  if (wrapperCache === undefined) {
    const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => {
      try {
        accessSync(p, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
    wrapperCache = setpriv ? [setpriv, '--pdeathsig', 'KILL', '--'] : null;
  }
  return wrapperCache;
}

/**
 * The exit line of a process log. Its instance's work dir may be gone already (purged while the
 * process was still exiting): the line is lost then, but an exception here (an exit handler)
 * would take the whole runtime down.
 */
function noteExit(logFile: string, line: string): void {
  try {
    appendFileSync(logFile, line);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
