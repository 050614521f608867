/**
 * What crosses the IPC channel between the node runtime and an instance's streamer process
 * (`streamer.process.ts`). Plain JSON over Node's IPC; every field is checked on arrival
 * because a bad message must never take the streamer down.
 *
 * Dependency-free (no path aliases) so that the child process runs it from dist or ts-node.
 */

import type { RtpEndpoints } from '../media/rtp';

/**
 * How the streamer is configured: its first IPC message, `{kind:'config', config}`
 * (child-config.ts). It binds the encoder's RTP ports at start and drops datagrams with
 * another payload type.
 */
export interface StreamerConfig extends RtpEndpoints {
  fps: number;
  width: number;
  height: number;
  /** node-datachannel format: `stun:host:port`, `turn:user:pass@host:port`. */
  iceServers: string[];
  /** ICE host candidates bind here (default: every interface). */
  bindAddress?: string;
  /** Inclusive UDP port range for ICE. */
  portRange?: [number, number];
  /** Share one UDP port between all ICE sessions (libjuice mux); off unless asked. */
  enableIceUdpMux?: boolean;
  /**
   * The offer's DTLS setup attribute. `actpass` (default): the client picks, and browsers
   * become the DTLS client. `active`: we are the DTLS client. See StreamerPeer.start().
   */
  dtlsSetup?: 'actpass' | 'active';
  /** Close a peer that has not connected this long after its offer. Default 30 s. */
  connectTimeoutMs?: number;
  /** Packets kept for NACK retransmission, per track. Default 512 (video), 128 (audio). */
  nackBufferPackets?: number;
  /** libdatachannel's own log level (to stderr). Default: none. */
  rtcLogLevel?: 'Verbose' | 'Debug' | 'Info' | 'Warning' | 'Error' | 'Fatal';
}

// ---------------------------------------------------------------- signalling (PROTOCOL.md §4)

/** A client's signalling message as the gateway relays it (already validated there). */
export type ClientSignal =
  | { type: 'discover' }
  | {
      type: 'settings';
      api_version?: number;
      data_channels?: string[];
      enable_speaker?: boolean;
      enable_microphone?: boolean;
      enable_video?: boolean;
      enable_camera?: boolean;
      video?: { preferred_decoder_codecs?: string[] };
    }
  | { type: 'answer'; sdp: string }
  | { type: 'candidate'; candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null }
  | { type: 'error'; message: string };

/** The instance's signalling messages (SDP and candidates base64-encoded). */
export type InstanceSignal =
  | { type: 'resp:discover'; max_api_version: number; fps: number; capabilities: string[] }
  | { type: 'offer'; sdp: string }
  | { type: 'candidate'; candidate: string; sdpMid: string; sdpMLineIndex: number }
  | { type: 'error'; message: string };

export const STREAMER_MAX_API_VERSION = 2;

// ---------------------------------------------------------------- control channel (§5)

export type InputEventType =
  | 'input::mouse-move'
  | 'input::mouse-button'
  | 'input::mouse-wheel'
  | 'input::key'
  | 'input::touch-start'
  | 'input::touch-move'
  | 'input::touch-end'
  | 'input::touch-cancel'
  | 'input::gamepad-button'
  | 'input::gamepad-axes';

/** One input event for the application, normalised to the fields of §5. */
export interface InputEvent {
  type: InputEventType;
  data: Record<string, number | boolean>;
}

// ---------------------------------------------------------------- IPC

export type ClientState = 'connected' | 'disconnected';
/** settings: a new viewer; connected: its keyframe went by before it connected; pli/fir: the receiver asked; resync: the encoder stream broke mid-GOP. */
export type KeyframeReason = 'settings' | 'connected' | 'pli' | 'fir' | 'resync';
export type StreamerLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Parent -> streamer. */
export type StreamerInbound =
  | { kind: 'config'; config: StreamerConfig }
  | { kind: 'signal'; generation: number; message: ClientSignal }
  /** Bytes for a user-named data channel of the current peer (base64; `text` = send as a string). */
  | { kind: 'data'; channel: string; data: string; text?: boolean }
  /** A `{type, data}` notice for the client on the control channel (`show-ime`, ...). */
  | { kind: 'control'; message: { type: string; data?: unknown } }
  | { kind: 'stop' };

/** Streamer -> parent. */
export type StreamerOutbound =
  | { kind: 'ready'; videoPort: number; audioPort: number; pid: number }
  | { kind: 'signal'; generation: number; message: InstanceSignal }
  /** Restart the encoder so that its next frame is an IDR. */
  | { kind: 'keyframe'; reason: KeyframeReason }
  | { kind: 'input'; event: InputEvent }
  | { kind: 'client-state'; generation: number; state: ClientState }
  | { kind: 'data'; channel: string; data: string; text?: boolean }
  | { kind: 'log'; level: StreamerLogLevel; message: string };

// ---------------------------------------------------------------- checks

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPort = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0 && (v as number) < 65536;
const isUint = (v: unknown, max: number): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= max;

/** Throws naming the first bad field; returns the config with defaults filled in. */
export function parseStreamerConfig(raw: unknown): StreamerConfig {
  const c = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw;
  if (!isObject(c)) throw new Error('streamer config must be a JSON object');
  for (const key of ['videoPort', 'audioPort'] as const) if (!isPort(c[key])) throw new Error(`config.${key} must be a UDP port`);
  if (c.videoPort === c.audioPort) throw new Error('config.videoPort and config.audioPort must differ');
  for (const key of ['videoPayloadType', 'audioPayloadType'] as const) {
    if (!isUint(c[key], 127)) throw new Error(`config.${key} must be an RTP payload type (0-127)`);
  }
  for (const key of ['videoSsrc', 'audioSsrc'] as const) {
    if (!isUint(c[key], 0xffffffff)) throw new Error(`config.${key} must be an unsigned 32-bit SSRC`);
  }
  for (const key of ['fps', 'width', 'height'] as const) {
    if (!Number.isInteger(c[key]) || (c[key] as number) <= 0) throw new Error(`config.${key} must be a positive integer`);
  }
  const iceServers = c.iceServers ?? [];
  if (!Array.isArray(iceServers) || !iceServers.every((s) => typeof s === 'string' && /^(stun|turns?):/.test(s))) {
    throw new Error('config.iceServers must be a list of stun:/turn:/turns: URLs');
  }
  if (c.bindAddress !== undefined && (typeof c.bindAddress !== 'string' || c.bindAddress.length === 0)) {
    throw new Error('config.bindAddress must be a non-empty string');
  }
  if (c.portRange !== undefined) {
    const r = c.portRange;
    if (!Array.isArray(r) || r.length !== 2 || !isPort(r[0]) || !isPort(r[1]) || r[0] > r[1]) {
      throw new Error('config.portRange must be [first, last] UDP ports');
    }
  }
  if (c.dtlsSetup !== undefined && c.dtlsSetup !== 'actpass' && c.dtlsSetup !== 'active') {
    throw new Error('config.dtlsSetup must be "actpass" or "active"');
  }
  if (c.connectTimeoutMs !== undefined && !(Number.isInteger(c.connectTimeoutMs) && (c.connectTimeoutMs as number) > 0)) {
    throw new Error('config.connectTimeoutMs must be a positive integer');
  }
  if (c.nackBufferPackets !== undefined && !(Number.isInteger(c.nackBufferPackets) && (c.nackBufferPackets as number) > 0)) {
    throw new Error('config.nackBufferPackets must be a positive integer');
  }
  return { ...(c as unknown as StreamerConfig), iceServers: iceServers as string[] };
}

/** Parent -> streamer messages that are well-formed enough to act on; anything else is null. */
export function parseInbound(msg: unknown): StreamerInbound | null {
  if (!isObject(msg) || typeof msg.kind !== 'string') return null;
  switch (msg.kind) {
    case 'config':
      return isObject(msg.config) ? (msg as unknown as StreamerInbound) : null;
    case 'signal':
      if (!Number.isSafeInteger(msg.generation) || !isObject(msg.message) || typeof msg.message.type !== 'string') return null;
      return msg as unknown as StreamerInbound;
    case 'data':
      if (typeof msg.channel !== 'string' || typeof msg.data !== 'string') return null;
      return { kind: 'data', channel: msg.channel, data: msg.data, text: msg.text === true };
    case 'control':
      if (!isObject(msg.message) || typeof msg.message.type !== 'string') return null;
      return { kind: 'control', message: { type: msg.message.type, data: msg.message.data ?? {} } };
    case 'stop':
      return { kind: 'stop' };
    default:
      return null;
  }
}
