/**
 * The signalling protocol, API version 2 (PROTOCOL.md §4): message shapes, their validation,
 * and the order in which each side may send them. The gateway relays only what passes here.
 */
export const SIGNALLING_MAX_FRAME_BYTES = 64 * 1024;
export const SIGNALLING_API_VERSION = 2;

export type ClientMessage =
  | { type: 'discover' }
  | { type: 'settings'; [key: string]: unknown }
  | { type: 'answer'; sdp: string }
  | { type: 'candidate'; candidate: string; sdpMid: string | null; sdpMLineIndex: number | null }
  | { type: 'error'; message: string };

export type InstanceMessage =
  | { type: 'resp:discover'; max_api_version: number; fps: number; capabilities: string[] }
  | { type: 'offer'; sdp: string }
  | { type: 'candidate'; candidate: string; sdpMid: string | null; sdpMLineIndex: number | null }
  | { type: 'error'; message: string };

export type SignallingMessage = ClientMessage | InstanceMessage;

export class SignallingError extends Error {}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes strict base64 (what the SDK writes with btoa) or throws naming the field. */
export function decodeBase64(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new SignallingError(`${field} must be a base64 string`);
  const compact = value.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) throw new SignallingError(`${field} is not valid base64`);
  return Buffer.from(compact, 'base64').toString('utf8');
}

export const encodeBase64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

function sdp(value: unknown, field: string): string {
  const text = decodeBase64(value, field);
  if (!/^v=0\r?\n/.test(text) || !/\r?\nm=/.test(text)) throw new SignallingError(`${field} does not hold an SDP description`);
  return value as string;
}

function candidate(msg: Record<string, unknown>) {
  const text = decodeBase64(msg.candidate, 'candidate');
  // An empty candidate is the end-of-candidates marker some browsers send.
  if (text !== '' && !/^(a=)?candidate:\S+ \d+ (udp|tcp|UDP|TCP) /.test(text)) {
    throw new SignallingError('candidate does not hold an ICE candidate line');
  }
  const mid = msg.sdpMid ?? null;
  const index = msg.sdpMLineIndex ?? null;
  if (mid !== null && typeof mid !== 'string') throw new SignallingError('sdpMid must be a string');
  if (index !== null && (!Number.isInteger(index) || (index as number) < 0)) {
    throw new SignallingError('sdpMLineIndex must be a non-negative integer');
  }
  return { type: 'candidate' as const, candidate: msg.candidate as string, sdpMid: mid as string | null, sdpMLineIndex: index as number | null };
}

const SETTINGS_BOOLEANS = ['enable_speaker', 'enable_microphone', 'enable_video', 'enable_camera', 'enable_stats'];

function settings(msg: Record<string, unknown>): ClientMessage {
  const out: Record<string, unknown> = { type: 'settings' };
  if (msg.api_version !== undefined) {
    if (!Number.isInteger(msg.api_version)) throw new SignallingError('api_version must be an integer');
    out.api_version = msg.api_version;
  }
  if (msg.data_channels !== undefined) {
    if (!Array.isArray(msg.data_channels) || !msg.data_channels.every((c) => typeof c === 'string' && c.length > 0 && c.length <= 64)) {
      throw new SignallingError('data_channels must be a list of channel names');
    }
    if (msg.data_channels.length > 16) throw new SignallingError('data_channels may name at most 16 channels');
    out.data_channels = msg.data_channels;
  }
  for (const key of SETTINGS_BOOLEANS) {
    if (msg[key] === undefined) continue;
    if (typeof msg[key] !== 'boolean') throw new SignallingError(`${key} must be a boolean`);
    out[key] = msg[key];
  }
  if (msg.video !== undefined) {
    const video = msg.video as Record<string, unknown>;
    if (typeof video !== 'object' || video === null || Array.isArray(video)) throw new SignallingError('video must be an object');
    const codecs = video.preferred_decoder_codecs;
    if (codecs !== undefined && (!Array.isArray(codecs) || !codecs.every((c) => typeof c === 'string'))) {
      throw new SignallingError('video.preferred_decoder_codecs must be a list of strings');
    }
    out.video = codecs === undefined ? {} : { preferred_decoder_codecs: codecs };
  }
  return out as ClientMessage;
}

function errorMessage(msg: Record<string, unknown>) {
  if (typeof msg.message !== 'string') throw new SignallingError('message must be a string');
  return { type: 'error' as const, message: msg.message.slice(0, 1024) };
}

/** Parses one text frame into an object with a string `type`, or throws. */
export function parseFrame(frame: string): Record<string, unknown> {
  if (Buffer.byteLength(frame) > SIGNALLING_MAX_FRAME_BYTES) throw new SignallingError('message larger than 64 KiB');
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch {
    throw new SignallingError('message is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SignallingError('message must be a JSON object');
  if (typeof (value as { type?: unknown }).type !== 'string') throw new SignallingError('message needs a string "type"');
  return value as Record<string, unknown>;
}

/** A client's message, normalised to the fields the protocol knows (others are dropped). */
export function validateClientMessage(msg: Record<string, unknown>): ClientMessage {
  switch (msg.type) {
    case 'discover':
      return { type: 'discover' };
    case 'settings':
      return settings(msg);
    case 'answer':
      return { type: 'answer', sdp: sdp(msg.sdp, 'sdp') };
    case 'candidate':
      return candidate(msg);
    case 'error':
      return errorMessage(msg);
    default:
      throw new SignallingError(`unknown message type ${JSON.stringify(msg.type)}`);
  }
}

/** An instance's message, normalised likewise. */
export function validateInstanceMessage(msg: Record<string, unknown>): InstanceMessage {
  switch (msg.type) {
    case 'resp:discover': {
      if (!Number.isInteger(msg.max_api_version)) throw new SignallingError('max_api_version must be an integer');
      if (msg.fps !== undefined && !Number.isInteger(msg.fps)) throw new SignallingError('fps must be an integer');
      const caps = msg.capabilities ?? [];
      if (!Array.isArray(caps) || !caps.every((c) => typeof c === 'string')) throw new SignallingError('capabilities must be a list of strings');
      return { type: 'resp:discover', max_api_version: msg.max_api_version as number, fps: (msg.fps as number) ?? 30, capabilities: caps as string[] };
    }
    case 'offer':
      return { type: 'offer', sdp: sdp(msg.sdp, 'sdp') };
    case 'candidate':
      return candidate(msg);
    case 'error':
      return errorMessage(msg);
    default:
      throw new SignallingError(`unknown message type ${JSON.stringify(msg.type)}`);
  }
}

/**
 * Where one signalling exchange stands, as the gateway sees it: what each side has sent.
 * `check*` throws when a message is out of order; `note*` records one that was relayed.
 */
export class SignallingOrder {
  private discovered = false;
  private settingsSent = false;
  private offered = false;
  private answered = false;

  checkFromClient(msg: ClientMessage): void {
    if (msg.type === 'error') return;
    if (msg.type === 'discover') {
      if (this.discovered) throw new SignallingError('discover was sent already');
      return;
    }
    if (!this.discovered) throw new SignallingError(`${msg.type} before discover`);
    if (msg.type === 'settings' && this.settingsSent) throw new SignallingError('settings were sent already');
    if (msg.type === 'answer' && !this.offered) throw new SignallingError('answer before any offer');
    if (msg.type === 'answer' && this.answered) throw new SignallingError('answer was sent already');
    if (msg.type === 'candidate' && !this.offered) throw new SignallingError('candidate before any offer');
  }

  noteFromClient(msg: ClientMessage): void {
    if (msg.type === 'discover') this.discovered = true;
    if (msg.type === 'settings') this.settingsSent = true;
    if (msg.type === 'answer') this.answered = true;
  }

  checkFromInstance(msg: InstanceMessage): void {
    if (msg.type === 'error') return;
    if (!this.discovered) throw new SignallingError(`${msg.type} before the client's discover`);
    if (msg.type === 'offer' && !this.settingsSent) throw new SignallingError('offer before the client\'s settings');
    if (msg.type === 'offer' && this.offered) throw new SignallingError('offer was sent already');
    if (msg.type === 'candidate' && !this.offered) throw new SignallingError('candidate before the offer');
  }

  noteFromInstance(msg: InstanceMessage): void {
    if (msg.type === 'offer') this.offered = true;
  }
}
