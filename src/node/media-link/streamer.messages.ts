/**
 * What crosses the IPC channel between the node runtime and an instance's streamer process
 * (`streamer.process.ts`). Plain JSON over Node's IPC; every field is checked on arrival
 * because a bad message must never take the streamer down.
 *
 * Dependency-free (no path aliases) so that the child process runs it from dist or ts-node.
 */

/** Where an instance's pictures and sound come from; the media process reads them itself. */
export type MediaSource =
  /** The frame source's unix sockets: framed I420 video (frame-wire.ts) and s16le PCM. */
  | { kind: 'test-pattern'; videoSocket: string; audioSocket: string }
  /** An X display (captured with x11grab) and, when there is one, a PulseAudio monitor (parec). */
  | { kind: 'x11'; display: string; pulseServer: string | null; pulseSource: string; /** Where the driver's microphone plays (its monitor is the application's default source). */ micSink?: string };

export const VIDEO_ENCODER_NAMES = ['auto', 'libx264', 'h264_nvenc', 'h264_vaapi', 'h264_qsv'] as const;
export type VideoEncoderChoice = (typeof VIDEO_ENCODER_NAMES)[number];
/**
 * In a streamer's environment: the encoder the node will most likely configure, which it warms
 * up while it waits for its configuration (a warm spare's head start).
 */
export const WARM_ENCODER_ENV = 'STREAMSTACK_WARM_ENCODER';

/**
 * How the streamer (the instance's media process) is configured: its first IPC message,
 * `{kind:'config', config}` (child-config.ts).
 */
export interface StreamerConfig {
  fps: number;
  width: number;
  height: number;
  source: MediaSource;
  video: {
    encoder: VideoEncoderChoice;
    gop: number;
    /** The rate controller moves the target between these (kb/s); it starts at startKbps. */
    minKbps: number;
    maxKbps: number;
    startKbps: number;
    /** What goes first below the floor: the picture's size (default) or its frame rate. */
    degradation?: 'resolution-first' | 'framerate-first';
  };
  audio: { bitrateKbps: number; sampleRate: number; channels: number };
  /** node-datachannel format: `stun:host:port`, `turn:user:pass@host:port`. */
  iceServers: string[];
  /** ICE host candidates bind here (default: every interface). */
  bindAddress?: string;
  /** Inclusive UDP port range for ICE. */
  portRange?: [number, number];
  /** Share one UDP port between all ICE sessions (libjuice mux); off unless asked. */
  enableIceUdpMux?: boolean;
  /**
   * The offer's DTLS setup attribute. `active` (default): we are the DTLS client and start the
   * handshake as soon as our ICE connects. `actpass`: the client picks (browsers become the
   * DTLS client). See StreamerPeer.start().
   */
  dtlsSetup?: 'actpass' | 'active';
  /** Close a peer that has not connected this long after its offer. Default 30 s. */
  connectTimeoutMs?: number;
  /** Packets kept for NACK retransmission, per track. Default 128 (streamer-peer.ts says why). */
  nackBufferPackets?: number;
  /** A source that sends no frame this long while someone watches fails the instance. Default 10 s. */
  sourceStallMs?: number;
  /** Where the driver's user-named channels get their Unix sockets (PROTOCOL.md §5a). */
  dataChannelDir?: string;
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

export type ClientState = 'connected' | 'disconnected' | 'failed';
/** new-peer: a viewer's video track opened; pli/fir: a receiver asked; resize: the encoder changed size. */
export type KeyframeReason = 'new-peer' | 'pli' | 'fir' | 'resize';

export interface PeerRateStats {
  generation: number;
  targetKbps: number;
  /** The receiver's last REMB, null before the first. */
  estimateKbps: number | null;
  /** Smoothed fraction lost (0..1) from its receiver reports. */
  lossFraction: number;
  rttMs: number | null;
}

export interface MediaStats {
  encoder: string;
  /** What the encoder is asked for now, and what it really produced over the last second. */
  targetKbps: number;
  sentKbps: number;
  fps: number;
  width: number;
  height: number;
  keyframes: number;
  peers: PeerRateStats[];
}
export type StreamerLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Parent -> streamer. */
export type StreamerInbound =
  | { kind: 'config'; config: StreamerConfig }
  /** `spectator`: a view-only peer beside the driver (it never replaces the driver's generation). */
  | { kind: 'signal'; generation: number; message: ClientSignal; spectator?: boolean }
  /** A `{type, data}` notice for the driver on the control channel (`show-ime`, ...). */
  | { kind: 'control'; message: { type: string; data?: unknown } }
  /** The display now has this size: capture it so (the encoder follows, from an IDR). */
  | { kind: 'source-size'; width: number; height: number }
  | { kind: 'stop' };

/** Streamer -> parent. */
export type StreamerOutbound =
  /** Its source is open and its encoders are loaded (`encoder`: the video encoder chosen). */
  | { kind: 'ready'; pid: number; encoder: string }
  | { kind: 'signal'; generation: number; spectator?: boolean; message: InstanceSignal }
  /** Once a second while someone watches: the encoder and each peer's rate control. */
  | { kind: 'stats'; stats: MediaStats }
  /** The media path broke for good (source gone, encoder failed): the instance has failed. */
  | { kind: 'fatal'; reason: string }
  | { kind: 'input'; event: InputEvent }
  | { kind: 'client-state'; generation: number; state: ClientState; reason?: string; spectator?: boolean }
  /** A peer was sent its first video (its keyframe): the busy part of its start is over. */
  | { kind: 'first-frame'; generation: number; spectator?: boolean }
  /** The driver set the clipboard to this text (reassembled from its pieces, at most 1 MiB). */
  | { kind: 'clipboard'; text: string }
  /** The driver asked for a display of this size (not yet checked against the screen limits). */
  | { kind: 'resize'; width: number; height: number }
  | { kind: 'log'; level: StreamerLogLevel; message: string };

// ---------------------------------------------------------------- checks

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPort = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0 && (v as number) < 65536;
const isPositiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

function checkSource(s: unknown): void {
  if (!isObject(s)) throw new Error('config.source must be an object');
  if (s.kind === 'test-pattern') {
    if (!isText(s.videoSocket) || !isText(s.audioSocket)) throw new Error('config.source needs videoSocket and audioSocket paths');
  } else if (s.kind === 'x11') {
    if (!isText(s.display) || !/^:\d+$/.test(s.display)) throw new Error('config.source.display must be an X display like ":12"');
    if (s.pulseServer !== null && !isText(s.pulseServer)) throw new Error('config.source.pulseServer must be a string or null');
    if (!isText(s.pulseSource)) throw new Error('config.source.pulseSource must be a source name');
    if (s.micSink !== undefined && !isText(s.micSink)) throw new Error('config.source.micSink must be a sink name');
  } else {
    throw new Error('config.source.kind must be "test-pattern" or "x11"');
  }
}

function checkVideo(v: unknown): void {
  if (!isObject(v)) throw new Error('config.video must be an object');
  if (!(VIDEO_ENCODER_NAMES as readonly unknown[]).includes(v.encoder)) {
    throw new Error(`config.video.encoder must be one of ${VIDEO_ENCODER_NAMES.join(', ')}`);
  }
  for (const key of ['gop', 'minKbps', 'maxKbps', 'startKbps'] as const) {
    if (!isPositiveInt(v[key])) throw new Error(`config.video.${key} must be a positive integer`);
  }
  if ((v.minKbps as number) > (v.maxKbps as number)) throw new Error('config.video.minKbps must not exceed maxKbps');
  if (v.degradation !== undefined && v.degradation !== 'resolution-first' && v.degradation !== 'framerate-first') {
    throw new Error('config.video.degradation must be "resolution-first" or "framerate-first"');
  }
}

/** Throws naming the first bad field; returns the config with defaults filled in. */
export function parseStreamerConfig(raw: unknown): StreamerConfig {
  let c = raw;
  if (typeof raw === 'string') {
    try {
      c = JSON.parse(raw) as unknown;
    } catch {
      throw new Error('streamer config is not valid JSON');
    }
  }
  if (!isObject(c)) throw new Error('streamer config must be a JSON object');
  for (const key of ['fps', 'width', 'height'] as const) {
    if (!Number.isInteger(c[key]) || (c[key] as number) <= 0) throw new Error(`config.${key} must be a positive integer`);
  }
  checkSource(c.source);
  checkVideo(c.video);
  const audio = c.audio;
  if (!isObject(audio) || !isPositiveInt(audio.bitrateKbps) || audio.sampleRate !== 48000 || (audio.channels !== 1 && audio.channels !== 2)) {
    throw new Error('config.audio must be {bitrateKbps: a positive integer, sampleRate: 48000, channels: 1 or 2}');
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
  if (c.dataChannelDir !== undefined && !isText(c.dataChannelDir)) throw new Error('config.dataChannelDir must be a directory path');
  if (c.sourceStallMs !== undefined && !isPositiveInt(c.sourceStallMs)) throw new Error('config.sourceStallMs must be a positive integer');
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
      return { kind: 'signal', generation: msg.generation as number, message: msg.message as ClientSignal, spectator: msg.spectator === true };
    case 'control':
      if (!isObject(msg.message) || typeof msg.message.type !== 'string') return null;
      return { kind: 'control', message: { type: msg.message.type, data: msg.message.data ?? {} } };
    case 'source-size':
      if (!isPositiveInt(msg.width) || !isPositiveInt(msg.height)) return null;
      return { kind: 'source-size', width: msg.width, height: msg.height };
    case 'stop':
      return { kind: 'stop' };
    default:
      return null;
  }
}
