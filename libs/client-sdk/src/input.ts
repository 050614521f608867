import { SDK_KEY_CODES } from '../../protocol/src/keys';
import { toStreamPixel } from './letterbox';

/** Which input the SDK forwards from its element; all on by default, pointer lock off. */
export interface InputOptions {
  mouse?: boolean;
  keyboard?: boolean;
  touch?: boolean;
  gamepad?: boolean;
  /** Lock the pointer on the first click (relative motion, for games). */
  pointerLock?: boolean;
}

type Send = (type: string, data: Record<string, unknown>) => void;

/** DOM MouseEvent.button → the SDK's button (PROTOCOL.md §5). */
const BUTTONS: Record<number, number> = { 0: 1, 1: 2, 2: 3, 4: 5 };
const GAMEPAD_POLL_MS = 16;
const AXIS_EPSILON = 0.01;

/**
 * Turns the events of the element that shows the stream into `input::*` control messages:
 * positions in stream pixels whatever the element's size (the video is letterboxed), keys by
 * the SDK's table, touches by finger, gamepads by polling. `detach()` removes every listener.
 */
export class InputForwarder {
  private readonly cleanups: (() => void)[] = [];
  private readonly heldKeys = new Set<number>();
  private last = { x: 0, y: 0 };
  private gamepadTimer: ReturnType<typeof setInterval> | undefined;
  private readonly pads = new Map<number, { buttons: boolean[]; axes: number[] }>();

  constructor(
    private readonly element: HTMLElement,
    private readonly video: HTMLVideoElement,
    private readonly send: Send,
    options: InputOptions,
  ) {
    if (options.mouse !== false) this.mouse(options.pointerLock === true);
    if (options.keyboard !== false) this.keyboard();
    if (options.touch !== false) this.touch();
    if (options.gamepad !== false) this.gamepad();
  }

  detach(): void {
    this.releaseKeys();
    clearInterval(this.gamepadTimer);
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    if (document.pointerLockElement === this.element) document.exitPointerLock();
  }

  private listen<E extends Event>(target: EventTarget, type: string, fn: (ev: E) => void): void {
    const handler = fn as EventListener;
    // Not passive: wheel and touch handlers call preventDefault().
    target.addEventListener(type, handler, { passive: false });
    this.cleanups.push(() => target.removeEventListener(type, handler));
  }

  /** A client position as a stream pixel (null before the first frame says how big the stream is). */
  private toStream(clientX: number, clientY: number): { x: number; y: number; inside: boolean } | null {
    const { videoWidth, videoHeight } = this.video;
    if (!videoWidth || !videoHeight) return null;
    const r = this.video.getBoundingClientRect();
    // Mouse events give whole CSS pixels: the point they name is the pixel's centre (without
    // this, a stream scaled up maps half a pixel short).
    const centre = (v: number) => (Number.isInteger(v) ? v + 0.5 : v);
    return toStreamPixel({ x: centre(clientX) - r.left, y: centre(clientY) - r.top }, r, { width: videoWidth, height: videoHeight });
  }

  private mouse(pointerLock: boolean): void {
    const locked = () => document.pointerLockElement === this.element;
    const move = (x: number, y: number) => {
      const rx = x - this.last.x;
      const ry = y - this.last.y;
      this.last = { x, y };
      this.send('input::mouse-move', { x, y, rx, ry });
    };
    this.listen<MouseEvent>(this.element, 'mousemove', (ev) => {
      if (locked()) {
        // Relative motion; the position is kept for the applications that want one.
        const { videoWidth: w, videoHeight: h } = this.video;
        const x = Math.min(Math.max(0, this.last.x + ev.movementX), Math.max(0, w - 1));
        const y = Math.min(Math.max(0, this.last.y + ev.movementY), Math.max(0, h - 1));
        this.last = { x, y };
        this.send('input::mouse-move', { x, y, rx: ev.movementX, ry: ev.movementY });
        return;
      }
      const p = this.toStream(ev.clientX, ev.clientY);
      if (p?.inside) move(p.x, p.y);
    });
    const button = (pressed: boolean) => (ev: MouseEvent) => {
      const b = BUTTONS[ev.button];
      if (b === undefined) return;
      if (!locked()) {
        const p = this.toStream(ev.clientX, ev.clientY);
        if (!p || (pressed && !p.inside)) return;
        if (p.x !== this.last.x || p.y !== this.last.y) move(p.x, p.y);
      }
      ev.preventDefault();
      this.element.focus({ preventScroll: true });
      if (pressed && pointerLock && !locked()) void this.element.requestPointerLock();
      this.send('input::mouse-button', { button: b, pressed });
    };
    this.listen(this.element, 'mousedown', button(true));
    this.listen(this.element, 'mouseup', button(false));
    this.listen(this.element, 'contextmenu', (ev) => ev.preventDefault());
    this.listen<WheelEvent>(this.element, 'wheel', (ev) => {
      ev.preventDefault();
      // Steps, with the sign opposite to the DOM's delta (PROTOCOL.md §5).
      this.send('input::mouse-wheel', { x: -Math.sign(ev.deltaX), y: -Math.sign(ev.deltaY) });
    });
  }

  private keyboard(): void {
    if (this.element.tabIndex < 0) this.element.tabIndex = 0;
    const key = (pressed: boolean) => (ev: KeyboardEvent) => {
      const code = SDK_KEY_CODES[ev.code];
      if (code === undefined) return;
      // Captured: Tab, Backspace, arrows… go to the application, not to the page.
      ev.preventDefault();
      if (ev.repeat) return; // the application's display repeats held keys itself
      if (pressed) this.heldKeys.add(code);
      else if (!this.heldKeys.delete(code)) return;
      this.send('input::key', { code, pressed });
    };
    this.listen(this.element, 'keydown', key(true));
    this.listen(this.element, 'keyup', key(false));
    // A key still held when the page loses focus would stay down remotely for ever.
    this.listen(this.element, 'blur', () => this.releaseKeys());
  }

  private releaseKeys(): void {
    for (const code of this.heldKeys) this.send('input::key', { code, pressed: false });
    this.heldKeys.clear();
  }

  private touch(): void {
    const each = (type: string, withPosition: boolean) => (ev: TouchEvent) => {
      ev.preventDefault();
      for (const t of Array.from(ev.changedTouches)) {
        if (!withPosition) {
          this.send(type, { id: t.identifier, last: ev.touches.length === 0 });
          continue;
        }
        const p = this.toStream(t.clientX, t.clientY);
        if (p) this.send(type, { id: t.identifier, x: p.x, y: p.y });
      }
    };
    this.listen(this.element, 'touchstart', each('input::touch-start', true));
    this.listen(this.element, 'touchmove', each('input::touch-move', true));
    this.listen(this.element, 'touchend', each('input::touch-end', false));
    this.listen(this.element, 'touchcancel', each('input::touch-cancel', false));
  }

  private gamepad(): void {
    if (typeof navigator.getGamepads !== 'function') return;
    // Gamepads have no events for their state: poll while one is connected.
    const poll = () => {
      const pads = navigator.getGamepads().filter((p): p is Gamepad => p !== null);
      if (pads.length === 0) {
        clearInterval(this.gamepadTimer);
        this.gamepadTimer = undefined;
        return;
      }
      for (const pad of pads) this.diffPad(pad);
    };
    this.listen(window, 'gamepadconnected', () => {
      this.gamepadTimer ??= setInterval(poll, GAMEPAD_POLL_MS);
    });
    this.listen<GamepadEvent>(window, 'gamepaddisconnected', (ev) => {
      this.pads.delete(ev.gamepad.index);
    });
  }

  private diffPad(pad: Gamepad): void {
    const seen = this.pads.get(pad.index) ?? { buttons: [], axes: [] };
    pad.buttons.forEach((b, index) => {
      if (b.pressed !== (seen.buttons[index] ?? false)) this.send('input::gamepad-button', { id: pad.index, index, pressed: b.pressed });
      seen.buttons[index] = b.pressed;
    });
    pad.axes.forEach((value, index) => {
      if (Math.abs(value - (seen.axes[index] ?? 0)) < AXIS_EPSILON) return;
      const v = Math.max(-1, Math.min(1, value));
      this.send('input::gamepad-axes', { id: pad.index, index, value: v });
      seen.axes[index] = v;
    });
    this.pads.set(pad.index, seen);
  }
}
