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
  /** Where the data channels' sockets appear (PROTOCOL.md §5a): the application's STREAMSTACK_DATA_CHANNELS. */
  channelDir: string;
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

/** An x11 display's size and clipboard (the desktop helper). */
export interface DesktopControl {
  /** Resizes the display; resolves with its new size. */
  resize(width: number, height: number): Promise<{ width: number; height: number }>;
  /** Makes `text` the application's clipboard. */
  setClipboard(text: string): void;
  /** Called with the text each time the application copies. */
  onClipboard(listener: (text: string) => void): void;
}

/** A started source: where the media process reads it, and how input reaches the application. */
export interface StartedSource {
  media: MediaSource;
  deliverInput(event: { type: string; data: unknown }): void;
  /** x11 only: what changes its display's size and carries its clipboard. */
  desktop?: DesktopControl;
  /** The display's size changed: input coordinates follow it. */
  resized?(width: number, height: number): void;
  /** Gamepad input reaches the application (a virtual gamepad); else the driver is told it does not. */
  gamepad?: boolean;
}
