import type { MediaSource } from '../media-link/streamer.messages';
import type { SandboxMode } from '../sandbox/bwrap';
import type { ProcessGroup, SupervisedProcess } from '../supervisor/process-group';
import type { SpareRole } from '../supervisor/warm-spares';

/** What a source's starter gets from the runtime for one instance. */
export interface SourceContext {
  instanceId: string;
  workDir: string;
  /** Where unix sockets go (the work dir, or a short temp dir when its path is too long). */
  socketDir: string;
  group: ProcessGroup;
  width: number;
  height: number;
  fps: number;
  /** Races `work` against the instance breaking and the start timeout. */
  within<T>(work: Promise<T>, what: string): Promise<T>;
  /** A loaded Node child of `role` (a warm spare when there is one), a member of `group`. */
  takeSpare(role: SpareRole, logFile: string): Promise<SupervisedProcess>;
  startTimeoutMs: number;
  /** Whether applications run sandboxed (STREAMSTACK_INSTANCE_SANDBOX). */
  sandbox: SandboxMode;
  /** What the instance reserved: its application's limits. */
  resources?: { cpus: number; memory: number };
}

/** A started source: where the media process reads it, and how input reaches the application. */
export interface StartedSource {
  media: MediaSource;
  deliverInput(event: { type: string; data: unknown }): void;
}
