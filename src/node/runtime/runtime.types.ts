import type { RtpEndpoints } from '../media/rtp';

/** Where an instance's encoder sends RTP, for the streamer that forwards it to WebRTC tracks. */
export interface InstanceMedia extends RtpEndpoints {
  /** The SDP ffmpeg writes for its two RTP outputs (rewritten on each encoder restart). */
  sdpFile: string;
}

export interface RunningInstanceInfo {
  instance_id: string;
  pids: number[];
  media: InstanceMedia;
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
  /** Default: ffmpeg on PATH, else @ffmpeg-installer/ffmpeg. */
  ffmpegPath?: string;
  /** SIGTERM -> SIGKILL grace on stop. Default 2000 ms. */
  stopGraceMs?: number;
  /** How long a start (or an encoder restart) may take to produce its first frame. Default 20 s. */
  startTimeoutMs?: number;
  /** Inclusive UDP port range for RTP. Default 20000-32767 (below the ephemeral range). */
  rtpPortRange?: [number, number];
  /** ICE settings of the streamers (streaming instances only). */
  ice?: IceSettings;
  /** Keep a booted frame source and streamer waiting (from onApplicationBootstrap). Default true. */
  warmSpares?: boolean;
}

export const NODE_RUNTIME_OPTIONS = Symbol('NODE_RUNTIME_OPTIONS');

/** What an instance's streamer says for the gateway. */
export type StreamerEvent = { instance_id: string; session_id: string } & (
  | { kind: 'signal'; generation: number; message: { type: string; [key: string]: unknown } }
  | { kind: 'client-state'; generation: number; state: 'connected' | 'disconnected' }
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
