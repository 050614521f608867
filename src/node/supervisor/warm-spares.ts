import { Logger } from '@nestjs/common';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { streamerCommand } from '../media-link/streamer-process';
import { whenLoaded } from './child-config';
import { nodeScript, type NodeScriptCommand } from './node-script';
import { ProcessExit, ProcessGroup, SupervisedProcess } from './process-group';

/** The Node children an instance runs; each takes its configuration over IPC once loaded. */
export type SpareRole = 'frame-source' | 'streamer';

const COMMANDS: Record<SpareRole, () => NodeScriptCommand> = {
  'frame-source': () => nodeScript(join(__dirname, '..', 'sources', 'test-pattern'), 'frame-source'),
  streamer: () => streamerCommand(),
};

/**
 * A spare is booted this long after the last one was taken or died: not while the instance that
 * took it starts (they would share the CPUs, and its start is what a viewer waits for), and a
 * crash loop stays cheap.
 */
export const SPARE_BOOT_DELAY_MS = 1500;

interface Booting {
  proc: SupervisedProcess;
  loaded: Promise<void>;
}

/**
 * One booted, not yet configured process of each role, waiting for an instance to start. Most
 * of a frame source's or a streamer's start is Node booting and loading modules (about 150 ms
 * each on an idle machine, several times that when they boot together on a loaded one); taking
 * a spare skips it. Taking one boots its replacement a little later. Disabled, every take boots a process.
 */
export class WarmSpares {
  private readonly logger = new Logger('WarmSpares');
  private readonly group = new ProcessGroup((proc, exit) => this.onSpareExit(proc, exit));
  private readonly spares = new Map<SpareRole, Booting>();
  private readonly pending = new Set<NodeJS.Timeout>();
  private running = false;
  private booted = 0;

  constructor(
    private readonly dir: string,
    private readonly enabled: boolean,
  ) {}

  /** Boots a spare of each role (when enabled). */
  start(): void {
    if (!this.enabled || this.running) return;
    this.running = true;
    mkdirSync(this.dir, { recursive: true });
    for (const role of Object.keys(COMMANDS) as SpareRole[]) this.boot(role);
  }

  /**
   * A loaded process of `role`, a member of `group` from now on, named `role`, its output in
   * `logFile`: the spare if there is one (loaded or still loading), else a new process.
   */
  async take(role: SpareRole, group: ProcessGroup, logFile: string, cwd: string): Promise<SupervisedProcess> {
    const spare = this.spares.get(role);
    let taken: Booting;
    if (spare?.proc.alive) {
      group.adopt(spare.proc, role, logFile);
      this.spares.delete(role);
      this.bootLater(role);
      taken = spare;
    } else {
      taken = this.spawn(role, group, logFile, cwd);
    }
    await taken.loaded;
    return taken.proc;
  }

  /** The spares now waiting (or still loading). */
  waiting(): { role: SpareRole; pid: number }[] {
    return [...this.spares].map(([role, s]) => ({ role, pid: s.proc.pid }));
  }

  /** Stops the spares; none is booted after this. */
  async stop(graceMs: number): Promise<void> {
    this.running = false;
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    this.spares.clear();
    await this.group.stopAll(graceMs);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private boot(role: SpareRole): void {
    if (!this.running) return;
    const logFile = join(this.dir, `${role}-${++this.booted}.log`);
    this.spares.set(role, this.spawn(role, this.group, logFile, this.dir, `${role} (spare)`));
  }

  private spawn(role: SpareRole, group: ProcessGroup, logFile: string, cwd: string, name: string = role): Booting {
    const proc = group.spawn({ name, ...COMMANDS[role](), cwd, logFile, ipc: true });
    const loaded = whenLoaded(proc.child);
    loaded.catch(() => undefined); // its exit is reported by the group that owns it then
    return { proc, loaded };
  }

  private onSpareExit(proc: SupervisedProcess, exit: ProcessExit): void {
    const role = [...this.spares].find(([, s]) => s.proc === proc)?.[0];
    if (!role) return;
    this.spares.delete(role);
    this.logger.warn(`the ${proc.describe(exit)}; booting another in ${SPARE_BOOT_DELAY_MS} ms (log: ${proc.logFile})`);
    this.bootLater(role);
  }

  private bootLater(role: SpareRole): void {
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      this.boot(role);
    }, SPARE_BOOT_DELAY_MS);
    timer.unref();
    this.pending.add(timer);
  }
}
