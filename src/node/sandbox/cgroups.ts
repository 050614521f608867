import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup';
/** Processes an application may have at once: enough for any desktop program, not for a fork bomb. */
export const APP_PIDS_MAX = 512;
const CPU_PERIOD_US = 100_000;

export interface InstanceLimits {
  /** Bytes. */
  memory: number;
  cpus: number;
}

/**
 * An instance's application as a cgroup (DESIGN.md "Instance sandbox"): memory, process count
 * and CPU time capped by the manifest's `resources`. cgroup v2 where the host has it (one
 * directory), else v1's `memory`, `pids` and `cpu` hierarchies; each under this process's own
 * cgroup, so the node's own limits still hold above it. A process joins by writing its pid into
 * `procsFiles` before it starts the application (its children follow it).
 */
export class InstanceCgroup {
  private constructor(
    readonly dirs: string[],
    readonly procsFiles: string[],
    private readonly eventsFile: string | null,
    readonly limits: InstanceLimits,
  ) {}

  /** The cgroup for instance `id`, or why none could be made (no writable controller here). */
  static create(id: string, limits: InstanceLimits): InstanceCgroup | string {
    const name = `streamstack-${id}`;
    try {
      if (existsSync(join(ROOT, 'cgroup.controllers'))) {
        const dir = join(ROOT, ownPath('') ?? '', name);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'memory.max'), String(limits.memory));
        writeIfThere(join(dir, 'memory.swap.max'), '0');
        writeFileSync(join(dir, 'pids.max'), String(APP_PIDS_MAX));
        writeFileSync(join(dir, 'cpu.max'), `${Math.round(limits.cpus * CPU_PERIOD_US)} ${CPU_PERIOD_US}`);
        return new InstanceCgroup([dir], [join(dir, 'cgroup.procs')], join(dir, 'memory.events'), limits);
      }
      const dir = (controller: string) => join(ROOT, controller, ownPath(controller) ?? '', name);
      const [memory, pids, cpu] = [dir('memory'), dir('pids'), dir('cpu')];
      const made: string[] = [];
      try {
        for (const d of [memory, pids, cpu]) {
          mkdirSync(d, { recursive: true });
          made.push(d);
        }
        writeFileSync(join(memory, 'memory.limit_in_bytes'), String(limits.memory));
        // No escape into swap: at the limit, the kernel's OOM killer acts inside the cgroup.
        writeIfThere(join(memory, 'memory.memsw.limit_in_bytes'), String(limits.memory));
        writeFileSync(join(pids, 'pids.max'), String(APP_PIDS_MAX));
        writeFileSync(join(cpu, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
        writeFileSync(join(cpu, 'cpu.cfs_quota_us'), String(Math.round(limits.cpus * CPU_PERIOD_US)));
      } catch (e) {
        for (const d of made.reverse()) removeDir(d);
        throw e;
      }
      return new InstanceCgroup([memory, pids, cpu], [memory, pids, cpu].map((d) => join(d, 'cgroup.procs')), join(memory, 'memory.oom_control'), limits);
    } catch (e) {
      return `no cgroup could be made for its limits (${(e as Error).message})`;
    }
  }

  /** How many times the kernel killed a process of this cgroup at its memory limit. */
  oomKills(): number {
    if (!this.eventsFile) return 0;
    try {
      const m = /^oom_kill (\d+)$/m.exec(readFileSync(this.eventsFile, 'utf8'));
      return m ? Number(m[1]) : 0;
    } catch {
      return 0;
    }
  }

  /** Removes the cgroup; its last processes may take a moment to be reaped, so it tries for a while. */
  remove(attempt = 0): void {
    for (const d of this.dirs) removeDir(d);
    if (attempt < 20 && this.dirs.some((d) => existsSync(d))) setTimeout(() => this.remove(attempt + 1), 500).unref();
  }
}

/** This process's cgroup path in a hierarchy (`''` is v2's unified one), from /proc/self/cgroup. */
function ownPath(controller: string): string | null {
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, controllers, path] = line.split(':');
    if (path === undefined) continue;
    if (controller === '' ? controllers === '' : controllers.split(',').includes(controller)) return path;
  }
  return null;
}

function writeIfThere(file: string, value: string): void {
  if (existsSync(file)) writeFileSync(file, value);
}

function removeDir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // gone already, or still busy: the next start of the same id reuses nothing of it
  }
}

/** An application's command with its limits applied, and how to explain and undo them. */
export interface LimitedCommand {
  command: string;
  args: string[];
  /** What the limits are, for the application's log. */
  summary: string;
  /** "was killed at its memory limit (…)" when the kernel killed it there. */
  explainExit(): string | null;
  /** Removes the cgroup (once the application is gone). */
  release(): void;
}

const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;

/**
 * `command args` inside instance `id`'s cgroup: a shell writes its own pid into the cgroup and
 * then becomes the command, so the application and all it starts are inside from the first
 * instruction. Where no cgroup can be made, an address-space rlimit is the last resort (a
 * crude cap: it counts reserved memory, not used memory) and the summary says so.
 */
export function limitCommand(id: string, limits: InstanceLimits, command: string, args: string[]): LimitedCommand {
  const cg = InstanceCgroup.create(id, limits);
  if (typeof cg === 'string') {
    return {
      command: '/bin/sh',
      args: ['-c', 'ulimit -v "$1"; shift; exec "$@"', 'sh', String(Math.floor(limits.memory / 1024)), command, ...args],
      summary: `limits: address space ${mb(limits.memory)} by rlimit only: ${cg}`,
      explainExit: () => null,
      release: () => undefined,
    };
  }
  const join = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1"; shift; n=$((n - 1)); done; exec "$@"';
  return {
    command: '/bin/sh',
    args: ['-c', join, 'sh', String(cg.procsFiles.length), ...cg.procsFiles, command, ...args],
    summary: `limits (cgroup): memory ${mb(limits.memory)}, ${limits.cpus} CPU, ${APP_PIDS_MAX} processes`,
    explainExit: () => (cg.oomKills() > 0 ? `was killed at its memory limit (${mb(limits.memory)}, the manifest's resources.memory)` : null),
    release: () => cg.remove(),
  };
}
