/**
 * The control data channel (PROTOCOL.md §5): JSON `{type, data}` from the client. Each
 * message becomes an input event for the application, a request to end the stream, or is
 * rejected with a reason (logged, never thrown at the caller: a client must not be able to
 * take the streamer down with a bad message).
 */
import type { InputEvent, InputEventType } from '../media-link/streamer.messages';
// Key codes are the Anbox SDK's table (PROTOCOL.md §5).
import { SDK_KEY_MAX } from '../sources/sdk-keys';

/**
 * Input messages are tiny; the largest of ours is a piece of clipboard text (at most
 * CLIPBOARD_PIECE_CHARS characters, at most 6 bytes each once JSON-escaped).
 */
export const CONTROL_MESSAGE_MAX_BYTES = 64 * 1024;

type FieldKind = 'number' | 'int' | 'uint' | 'bool';
interface FieldSpec {
  kind: FieldKind;
  /** Filled in when missing (the SDK always sends them, other clients may not). */
  default?: number | boolean;
  min?: number;
  max?: number;
}


const INPUT_FIELDS: Record<InputEventType, Record<string, FieldSpec>> = {
  'input::mouse-move': { x: { kind: 'number' }, y: { kind: 'number' }, rx: { kind: 'number', default: 0 }, ry: { kind: 'number', default: 0 } },
  // 1 left, 2 middle, 3 right; X11 also knows 4-9 (wheel, side buttons).
  'input::mouse-button': { button: { kind: 'uint', min: 1, max: 9 }, pressed: { kind: 'bool' } },
  'input::mouse-wheel': { x: { kind: 'number', default: 0 }, y: { kind: 'number', default: 0 } },
  'input::key': { code: { kind: 'uint', max: SDK_KEY_MAX }, pressed: { kind: 'bool' } },
  'input::touch-start': { id: { kind: 'uint' }, x: { kind: 'number' }, y: { kind: 'number' } },
  'input::touch-move': { id: { kind: 'uint' }, x: { kind: 'number' }, y: { kind: 'number' } },
  'input::touch-end': { id: { kind: 'uint' } },
  'input::touch-cancel': { id: { kind: 'uint' } },
  'input::gamepad-button': { id: { kind: 'uint' }, index: { kind: 'uint' }, pressed: { kind: 'bool' } },
  'input::gamepad-axes': { id: { kind: 'uint' }, index: { kind: 'uint' }, value: { kind: 'number', min: -1, max: 1 } },
};

/** Coordinates beyond this are nonsense whatever the screen (PROTOCOL.md caps it at 3840x2160). */
const COORDINATE_LIMIT = 1_000_000;

export type ControlMessage =
  | { kind: 'input'; event: InputEvent }
  | { kind: 'disconnect' }
  /** A piece of clipboard text for the application; `more`: the text goes on in the next one. */
  | { kind: 'clipboard'; text: string; more: boolean }
  /** The client asks for a display of this size (checked against the screen limits by the runtime). */
  | { kind: 'resize'; width: number; height: number }
  | { kind: 'invalid'; reason: string };

export function isInputEventType(type: string): type is InputEventType {
  return Object.prototype.hasOwnProperty.call(INPUT_FIELDS, type);
}

/** Parses one control-channel message (a string, or UTF-8 bytes). */
export function parseControlMessage(raw: string | Buffer | ArrayBuffer): ControlMessage {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.byteLength;
  if (size > CONTROL_MESSAGE_MAX_BYTES) return { kind: 'invalid', reason: `message of ${size} bytes is larger than ${CONTROL_MESSAGE_MAX_BYTES}` };
  const text = typeof raw === 'string' ? raw : Buffer.from(raw as ArrayBuffer).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'invalid', reason: 'not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'invalid', reason: 'not a JSON object' };
  const { type, data } = value as { type?: unknown; data?: unknown };
  if (typeof type !== 'string') return { kind: 'invalid', reason: 'needs a string "type"' };
  if (type === 'stream::disconnect') return { kind: 'disconnect' };
  if (type === 'clipboard::set') return parseClipboard(data);
  if (type === 'screen::resize') return parseResize(data);
  if (!isInputEventType(type)) return { kind: 'invalid', reason: `unknown type ${JSON.stringify(type.slice(0, 64))}` };
  const fields = data ?? {};
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return { kind: 'invalid', reason: `${type}: data must be an object` };
  const out: Record<string, number | boolean> = {};
  for (const [name, spec] of Object.entries(INPUT_FIELDS[type])) {
    const v = (fields as Record<string, unknown>)[name];
    if (v === undefined || v === null) {
      if (spec.default === undefined) return { kind: 'invalid', reason: `${type}: data.${name} is missing` };
      out[name] = spec.default;
      continue;
    }
    const problem = checkField(v, spec);
    if (problem) return { kind: 'invalid', reason: `${type}: data.${name} ${problem}` };
    out[name] = v as number | boolean;
  }
  return { kind: 'input', event: { type, data: out } };
}

function checkField(v: unknown, spec: FieldSpec): string | null {
  if (spec.kind === 'bool') return typeof v === 'boolean' ? null : 'must be a boolean';
  if (typeof v !== 'number' || !Number.isFinite(v)) return 'must be a number';
  if ((spec.kind === 'int' || spec.kind === 'uint') && !Number.isInteger(v)) return 'must be an integer';
  const min = spec.min ?? (spec.kind === 'uint' ? 0 : -COORDINATE_LIMIT);
  const max = spec.max ?? (spec.kind === 'uint' ? 0xffff : COORDINATE_LIMIT);
  if (v < min || v > max) return `must be within ${min}..${max}`;
  return null;
}

function parseClipboard(data: unknown): ControlMessage {
  const d = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  if (typeof d.text !== 'string') return { kind: 'invalid', reason: 'clipboard::set: data.text must be a string' };
  if (d.more !== undefined && typeof d.more !== 'boolean') return { kind: 'invalid', reason: 'clipboard::set: data.more must be a boolean' };
  return { kind: 'clipboard', text: d.text, more: d.more === true };
}

function parseResize(data: unknown): ControlMessage {
  const d = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  for (const key of ['width', 'height'] as const) {
    const v = d[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 0xffff) return { kind: 'invalid', reason: `screen::resize: data.${key} must be a whole number of pixels, at least 1` };
  }
  return { kind: 'resize', width: d.width as number, height: d.height as number };
}
