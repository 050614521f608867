import type { VideoEncoderChoice } from '../media-link/streamer.messages';
import type { SandboxMode } from '../sandbox/bwrap';

export interface RunningInstanceInfo {
  instance_id: string;
  pids: number[];
}

export interface RuntimeStatusEvent {
  instance_id: string;
  status: 'running' | 'stopped' | 'error';
  reason?: string;
}

export type RuntimeStatusListener = (ev: RuntimeStatusEvent) => void;

export interface NodeRuntimeOptions {
  /** Instances live in `<dataDir>/instances/<id>/` (logs, SDP, sockets). */
  dataDir: string;
  /** SIGTERM -> SIGKILL grace on stop. Default 2000 ms. */
  stopGraceMs?: number;
  /** How long each step of a start may take. Default 20 s. */
  startTimeoutMs?: number;
  /** STREAMSTACK_VIDEO_ENCODER: a name, or `auto` (probe hardware, fall back to libx264). */
  videoEncoder?: VideoEncoderChoice;
  /** ICE settings of the streamers (streaming instances only). */
  ice?: IceSettings;
  /** Keep a booted frame source and streamer waiting (from onApplicationBootstrap). Default true. */
  warmSpares?: boolean;
  /** STREAMSTACK_INSTANCE_SANDBOX: x11 applications in bubblewrap (`on`, the default) or not. */
  sandbox?: SandboxMode;
}

export const NODE_RUNTIME_OPTIONS = Symbol('NODE_RUNTIME_OPTIONS');

/** What an instance's streamer says for the gateway. */
export type StreamerEvent = { instance_id: string; session_id: string } & (
  | { kind: 'signal'; generation: number; spectator?: boolean; message: { type: string; [key: string]: unknown } }
  | { kind: 'client-state'; generation: number; state: 'connected' | 'disconnected' | 'failed'; reason?: string; spectator?: boolean }
  /** The instance runs and its media process takes the session's signalling. */
  | { kind: 'ready' }
);

export type StreamerEventListener = (ev: StreamerEvent) => void;

/** How the streamers of this node reach their clients. */
export interface IceSettings {
  /** node-datachannel ICE servers (`stun:host:port`). */
  servers: string[];
  /** Host candidates bind here (STREAMSTACK_ICE_BIND_ADDRESS); empty: every interface. */
  bindAddress?: string;
  portRange?: [number, number];
}
