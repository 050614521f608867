import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Readable } from 'node:stream';

/** An executable on PATH, or null. */
export function findOnPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Xvfb `-displayfd N` picks a free display itself (no guessing, no race with other servers)
 * and writes its number to fd N once it accepts connections.
 */
export function readDisplayNumber(stream: Readable): Promise<number> {
  return new Promise((resolve) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      text += chunk;
      const m = /^(\d+)\n/.exec(text);
      if (m) resolve(Number(m[1]));
    });
  });
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const clamp = (v: number, max: number): number => Math.max(0, Math.min(max - 1, Math.round(v)));

/**
 * Turns PROTOCOL.md §5 input events into `xdotool -` commands (one per line, executed as they
 * arrive), injected through XTest. Linux input scancodes become X keycodes by adding 8 (the
 * evdev keymap Xvfb uses). Touch drives the pointer, following the first contact until it
 * ends; gamepads have no X11 equivalent and are dropped. Anything malformed yields nothing.
 */
export class XdotoolInput {
  private touch: unknown = null;

  constructor(
    private readonly width: number,
    private readonly height: number,
  ) {}

  commands(event: { type: string; data: unknown }): string[] {
    const d = (typeof event.data === 'object' && event.data !== null ? event.data : {}) as Record<string, unknown>;
    const x = num(d.x);
    const y = num(d.y);
    const at = (): string[] => (x === null || y === null ? [] : [`mousemove ${clamp(x, this.width)} ${clamp(y, this.height)}`]);
    switch (event.type) {
      case 'input::mouse-move':
        return at();
      case 'input::mouse-button': {
        const button = num(d.button);
        if (button === null || ![1, 2, 3].includes(button)) return [];
        return [`${d.pressed ? 'mousedown' : 'mouseup'} ${button}`];
      }
      case 'input::mouse-wheel': {
        // X buttons 4/5 scroll up/down, 6/7 left/right; one click per event.
        const out: string[] = [];
        if (y !== null && y !== 0) out.push(`click ${y < 0 ? 4 : 5}`);
        if (x !== null && x !== 0) out.push(`click ${x < 0 ? 6 : 7}`);
        return out;
      }
      case 'input::key': {
        const code = num(d.code);
        if (code === null || !Number.isInteger(code) || code < 1 || code > 247) return [];
        const keycode = code + 8;
        // A bare "9" would be read as the keysym of the digit 9; keycode 9 is Escape.
        return [`${d.pressed ? 'keydown' : 'keyup'} ${keycode === 9 ? 'Escape' : keycode}`];
      }
      case 'input::touch-start':
        if (this.touch !== null) return [];
        this.touch = d.id;
        return [...at(), 'mousedown 1'];
      case 'input::touch-move':
        return this.touch !== null && d.id === this.touch ? at() : [];
      case 'input::touch-end':
      case 'input::touch-cancel':
        if (this.touch === null || d.id !== this.touch) return [];
        this.touch = null;
        return ['mouseup 1'];
      default:
        return [];
    }
  }
}
