/** Shapes that cross the AMS <-> node boundary (PROTOCOL.md §6, §7). */
import { ValidateBy } from 'class-validator';

export const INSTANCE_STATUSES = ['created', 'prepared', 'started', 'running', 'stopped', 'deleted', 'error'] as const;
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];

export const APPLICATION_KINDS = ['test-pattern', 'x11'] as const;
export type ApplicationKind = (typeof APPLICATION_KINDS)[number];

/** A sandboxed application's network: only its own loopback (default), or the outside world too. */
export const NETWORK_MODES = ['none', 'outbound'] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];

/** The manifest's `env`: what its application finds in its environment beside what the node sets. */
export const APP_ENV_MAX_ENTRIES = 64;
export const APP_ENV_MAX_VALUE = 4096;
/** Set by the node for every application; a manifest cannot replace them. */
const NODE_SET_ENV = ['DISPLAY', 'HOME', 'PULSE_SERVER', 'PULSE_SOURCE'];

/** Why a manifest's `env` cannot be used, or undefined when it can. */
export function appEnvProblem(env: unknown): string | undefined {
  if (typeof env !== 'object' || env === null || Array.isArray(env)) return 'env must be an object of NAME: "value" pairs';
  const entries = Object.entries(env);
  if (entries.length > APP_ENV_MAX_ENTRIES) return `env must have at most ${APP_ENV_MAX_ENTRIES} variables`;
  for (const [name, value] of entries) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name)) return `env name ${JSON.stringify(name.slice(0, 130))} must be letters, digits and _, not starting with a digit`;
    if (NODE_SET_ENV.includes(name) || name.startsWith('STREAMSTACK_')) return `env ${name} is set by the node (${NODE_SET_ENV.join(', ')} and STREAMSTACK_* cannot be replaced)`;
    if (typeof value !== 'string') return `env ${name} must be a string`;
    if (value.length > APP_ENV_MAX_VALUE) return `env ${name} must be shorter than or equal to ${APP_ENV_MAX_VALUE} characters`;
    if (value.includes('\0')) return `env ${name} must not contain NUL characters`;
  }
  return undefined;
}

export interface DisplaySpec {
  width: number;
  height: number;
  fps: number;
}

export interface EncoderSpec {
  codec: 'h264';
  /** Where the rate controller starts (clamped into min..max). */
  bitrate_kbps: number;
  gop: number;
  /** The rate controller's range; absent in manifests stored before it existed: see bitrateRange(). */
  min_bitrate_kbps?: number;
  max_bitrate_kbps?: number;
  /** Below the rate floor, what goes first: the picture's size (default) or its frame rate. */
  degradation?: 'resolution-first' | 'framerate-first';
}

/** class-validator's check of a manifest's `env`, by appEnvProblem(). */
export function IsAppEnv(): PropertyDecorator {
  return ValidateBy({
    name: 'isAppEnv',
    validator: { validate: (value) => appEnvProblem(value) === undefined, defaultMessage: (args) => appEnvProblem(args?.value) ?? 'env is invalid' },
  });
}

/**
 * Default bitrate range for a display, scaled by pixels per second from Anbox Cloud's
 * defaults (720p30: 1-3 Mb/s; 1080p60: 3-7 Mb/s), interpolated between those two points on a
 * log scale and kept within 100 kb/s .. 50 Mb/s.
 */
export function defaultBitrateRange(display: DisplaySpec): { min: number; max: number } {
  const rate = display.width * display.height * display.fps;
  const p720 = 1280 * 720 * 30;
  const p1080 = 1920 * 1080 * 60;
  // Exponents through both anchors: min 1000 -> 3000 and max 3000 -> 7000 as rate goes x4.5.
  const at = (low: number, high: number) => low * Math.pow(rate / p720, Math.log(high / low) / Math.log(p1080 / p720));
  const clamp = (v: number) => Math.min(50_000, Math.max(100, Math.round(v / 10) * 10));
  return { min: clamp(at(1000, 3000)), max: clamp(at(3000, 7000)) };
}

/** The encoder's rate range and start, from the manifest's fields or the display's defaults. */
export function bitrateRange(encoder: EncoderSpec, display: DisplaySpec): { minKbps: number; maxKbps: number; startKbps: number } {
  const defaults = defaultBitrateRange(display);
  const minKbps = encoder.min_bitrate_kbps ?? Math.min(defaults.min, encoder.max_bitrate_kbps ?? defaults.min);
  const maxKbps = Math.max(minKbps, encoder.max_bitrate_kbps ?? defaults.max);
  return { minKbps, maxKbps, startKbps: Math.min(maxKbps, Math.max(minKbps, encoder.bitrate_kbps)) };
}

/** AMS -> node `node.{node}.instance.start`. */
export interface NodeInstanceStartRequest {
  instance_id: string;
  app: string;
  app_version: number;
  kind: ApplicationKind;
  /** x11 only: the program to run, relative paths resolve inside `app_dir`. */
  command?: string;
  display: DisplaySpec;
  encoder: EncoderSpec;
  /** Where the application's package files were extracted, if it came as a package. */
  app_dir?: string;
  user_data?: unknown;
  /** Set for stream-enabled instances: the session whose signalling its streamer answers. */
  session_id?: string;
  /** What the instance reserved (the manifest's `resources`): the node makes them its limits. */
  resources?: { cpus: number; memory: number };
  /** The manifest's `network` (absent: none). */
  network?: NetworkMode;
  /** The manifest's `env`, checked by appEnvProblem(). */
  env?: Record<string, string>;
}

/** AMS -> node `node.{node}.instance.stop` and `.logs`. */
export interface NodeInstanceRef {
  instance_id: string;
}

/** What the node answers to `.start`. */
export interface NodeInstanceStarted {
  instance_id: string;
  pids: number[];
}

/** node -> AMS: the runtime saw an instance change (it came up, it died, it stopped). */
export interface NodeInstanceStatusEvent {
  node: string;
  instance_id: string;
  status: 'running' | 'stopped' | 'error';
  reason?: string;
}

/** AMS -> everyone `ams.instance.status`. */
export interface InstanceStatusEvent {
  id: string;
  app: string;
  node: string | null;
  status: InstanceStatus;
  status_message: string;
  session_id: string | null;
  timestamp: string;
}

/** node -> AMS `ams.node.register` and `ams.node.heartbeat`. */
export interface NodeRegistration {
  name: string;
  address: string;
  cpus: number;
  /** bytes */
  memory: number;
}

/** gateway -> agent `agent.{region}.session.launch`. */
export interface SessionLaunchRequest {
  session_id: string;
  app: string;
  app_version?: number;
  screen: DisplaySpec & { density: number };
  extra_data?: unknown;
}

export interface SessionLaunchReply {
  instance_id: string;
  node: string | null;
  app_version: number;
  status: InstanceStatus;
}

/** agent -> gateway `gateway.session.create`: a session for an instance AMS launched with streaming. */
export interface InstanceSessionRequest {
  instance_id: string;
  app: string;
  app_version: number;
  node: string | null;
  region: string;
  screen: DisplaySpec & { density: number };
  /** The account whose clients may join the session (its name); absent: admins only. */
  account?: string;
}

/** node -> gateway `gateway.session.client-state`. */
export interface ClientStateEvent {
  session_id: string;
  generation: number;
  /** failed: its peer connection never connected (ICE or DTLS failed, or it timed out). */
  state: 'connected' | 'disconnected' | 'failed';
  /** Why, for `failed`: it becomes the session's status_message. */
  reason?: string;
  /** A spectator's peer (`generation` is its id): it only counts in the session's peers. */
  spectator?: boolean;
}

/** What travels on `signal.{session}.ready`. */
export interface StreamerReady {
  session_id: string;
}

/** What travels on `signal.{session}.to-instance` / `.to-client`. */
export interface RelayedSignal {
  session_id: string;
  /** The client generation (bumped by each join) the message belongs to; a spectator's own id when `spectator`. */
  generation: number;
  /** A view-only peer beside the driver (PROTOCOL.md §3): its generation never replaces the driver's. */
  spectator?: boolean;
  message: { type: string; [key: string]: unknown };
}
