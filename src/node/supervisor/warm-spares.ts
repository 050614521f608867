import { Logger } from '@nestjs/common';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { streamerCommand } from '../media-link/streamer-process';
import { WARM_ENCODER_ENV, type VideoEncoderChoice } from '../media-link/streamer.messages';
import { childEnv } from './child-env';
import { whenLoaded } from './child-config';
import { nodeScript, type NodeScriptCommand } from './node-script';
import { ProcessExit, ProcessGroup, SupervisedProcess } from './process-group';

/** The Node children an instance runs; each takes its configuration over IPC once loaded. */
export type SpareRole = 'frame-source' | 'streamer';

/** `videoEncoder`: the node's choice, which a streamer warms up while it waits. */
const commandOf = (role: SpareRole, videoEncoder: VideoEncoderChoice): NodeScriptCommand =>
  role === 'streamer'
    ? streamerCommand(childEnv({ [WARM_ENCODER_ENV]: videoEncoder }))
    : nodeScript(join(__dirname, '..', 'sources', 'test-pattern'), 'frame-source');
const ROLES: readonly SpareRole[] = ['frame-source', 'streamer'];

/**
 * A taken spare is replaced when the runtime says the node is past the busy part (`replenish`:
 * the instance that took it has sent its first viewer the first frame), or this long after the
 * take at the latest. Not at once: the boot would share the CPUs with the start and the first
 * frame a viewer is waiting for. One that died is replaced this long after, so a crash loop
 * stays cheap.
 */
export const SPARE_BOOT_DELAY_MS = 1500;
/**
 * `replenish` boots this long after it is called: the viewer's browser decodes and shows that
 * first frame meanwhile. (Booting at once, or at the peer's `connected`, put two Node boots on
 * the CPUs that encode, send and decode it: 50-100 ms more to the first frame on 2 cores.)
 */
export const REPLENISH_GRACE_MS = 200;

interface Booting {
  proc: SupervisedProcess;
  loaded: Promise<void>;
}

/**
 * One booted, not yet configured process of each role, waiting for an instance to start. Most
 * of a frame source's or a streamer's start is Node booting and loading modules (about 150 ms
 * each on an idle machine, several times that when they boot together on a loaded one); taking
 * a spare skips it. Taking one boots its replacement a little later (`replenish`). Disabled, every
 * take boots a process.
 */
export class WarmSpares {
  private readonly logger = new Logger('WarmSpares');
  private readonly group = new ProcessGroup((proc, exit) => this.onSpareExit(proc, exit));
  private readonly spares = new Map<SpareRole, Booting>();
  /** Replacements owed, each with the timer that boots it; `taken` ones may boot sooner (replenish). */
  private readonly pending = new Map<NodeJS.Timeout, { role: SpareRole; taken: boolean }>();
  private running = false;
  private booted = 0;

  constructor(
    private readonly dir: string,
    private readonly enabled: boolean,
    private readonly videoEncoder: VideoEncoderChoice = 'auto',
  ) {}

  /** Boots a spare of each role (when enabled). */
  start(): void {
    if (!this.enabled || this.running) return;
    this.running = true;
    mkdirSync(this.dir, { recursive: true });
    for (const role of ROLES) this.boot(role);
  }

  /**
   * A loaded process of `role`, a member of `group` from now on, named `role`, its output in
   * `logFile`: the spare if there is one (loaded or still loading), else a new process.
   */
  async take(role: SpareRole, group: ProcessGroup, logFile: string, cwd: string): Promise<SupervisedProcess> {
    const spare = this.spares.get(role);
    if (!spare?.proc.alive) {
      const fresh = this.spawn(role, group, logFile, cwd);
      await fresh.loaded;
      return fresh.proc;
    }
    group.adopt(spare.proc, role, logFile);
    this.spares.delete(role);
    try {
      await spare.loaded;
    } finally {
      // The replacement's delay counts from when the taken one is ready (a spare taken while
      // still loading would otherwise compete with its own replacement for the CPU).
      this.bootLater(role, true);
    }
    return spare.proc;
  }

  /**
   * Boots the replacements owed REPLENISH_GRACE_MS from now, not when their delay ends: the node
   * has just done the work a viewer waited for, and the next viewer should find a spare.
   */
  replenish(): void {
    for (const [timer, { role, taken }] of [...this.pending]) {
      if (!taken) continue;
      clearTimeout(timer);
      this.pending.delete(timer);
      this.bootLater(role, false, REPLENISH_GRACE_MS);
    }
  }

  /** The spares now waiting (or still loading). */
  waiting(): { role: SpareRole; pid: number }[] {
    return [...this.spares].map(([role, s]) => ({ role, pid: s.proc.pid }));
  }

  /** Stops the spares; none is booted after this. */
  async stop(graceMs: number): Promise<void> {
    this.running = false;
    for (const t of this.pending.keys()) clearTimeout(t);
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
    const proc = group.spawn({ name, ...commandOf(role, this.videoEncoder), cwd, logFile, ipc: true });
    const loaded = whenLoaded(proc.child);
    loaded.catch(() => undefined); // its exit is reported by the group that owns it then
    return { proc, loaded };
  }

  private onSpareExit(proc: SupervisedProcess, exit: ProcessExit): void {
    const role = [...this.spares].find(([, s]) => s.proc === proc)?.[0];
    if (!role) return;
    this.spares.delete(role);
    this.logger.warn(`the ${proc.describe(exit)}; booting another in ${SPARE_BOOT_DELAY_MS} ms (log: ${proc.logFile})`);
    this.bootLater(role, false);
  }

  /** `taken`: a taken spare's replacement, which `replenish` may boot sooner. */
  private bootLater(role: SpareRole, taken: boolean, delayMs = SPARE_BOOT_DELAY_MS): void {
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      this.boot(role);
    }, delayMs);
    timer.unref();
    this.pending.set(timer, { role, taken });
  }
}
