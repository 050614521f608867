import { SDK_KEY_CODES } from '@streamstack/protocol';
import { SDK_KEY_MAX, SDK_KEYSYMS } from './sdk-keys';
import { XdotoolInput } from './x11';

describe('XdotoolInput (PROTOCOL.md §5 -> xdotool)', () => {
  const ev = (type: string, data: unknown = {}) => ({ type, data });

  it('maps pointer, wheel and keys; clamps to the screen', () => {
    const x = new XdotoolInput(320, 240);
    expect(x.commands(ev('input::mouse-move', { x: 10.4, y: 500, rx: 0, ry: 0 }))).toEqual(['mousemove 10 239']);
    expect(x.commands(ev('input::mouse-button', { button: 3, pressed: true }))).toEqual(['mousedown 3']);
    expect(x.commands(ev('input::mouse-button', { button: 1, pressed: false }))).toEqual(['mouseup 1']);
    expect(x.commands(ev('input::mouse-wheel', { x: 0, y: 120 }))).toEqual(['click 5']);
    expect(x.commands(ev('input::mouse-wheel', { x: -3, y: -1 }))).toEqual(['click 4', 'click 6']);
    expect(x.commands(ev('input::key', { code: 4, pressed: true }))).toEqual(['keydown a']);
    expect(x.commands(ev('input::key', { code: 41, pressed: false }))).toEqual(['keyup Escape']);
  });

  it("sends the Anbox SDK's key table (PROTOCOL.md §5) as keysyms, not Linux scancodes", () => {
    const x = new XdotoolInput(320, 240);
    const down = (code: number) => x.commands(ev('input::key', { code, pressed: true }))[0];
    // What Canonical's SDK sends for H, E, L, L, O, Enter (it reached X as "0 7 Tab Tab e apostrophe").
    expect([11, 8, 15, 15, 18, 40].map(down)).toEqual(['keydown h', 'keydown e', 'keydown l', 'keydown l', 'keydown o', 'keydown Return']);
    expect([30, 38, 39, 44, 50, 58, 69, 79, 82].map(down)).toEqual(['keydown 1', 'keydown 9', 'keydown 0', 'keydown space', 'keydown apostrophe', 'keydown F1', 'keydown F12', 'keydown Right', 'keydown Up']);
    // Modifiers, AltGraph, NumLock, and the SDK's own codes after HID's.
    expect([83, 84, 85, 86, 87, 88, 92].map(down)).toEqual(['keydown Control_L', 'keydown Shift_L', 'keydown Alt_L', 'keydown Super_L', 'keydown ISO_Level3_Shift', 'keydown Num_Lock', 'keydown XF86Back']);
    // Every key a client can send (the DOM table of libs/protocol) reaches X as a keysym.
    for (const [dom, code] of Object.entries(SDK_KEY_CODES)) {
      expect([dom, code <= SDK_KEY_MAX && SDK_KEYSYMS.has(code)]).toEqual([dom, true]);
    }
    // Outside the table: nothing.
    expect([0, 3, 93, 1000, 4.5].map(down)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it('follows the first touch contact only', () => {
    const x = new XdotoolInput(320, 240);
    expect(x.commands(ev('input::touch-start', { id: 7, x: 5, y: 6 }))).toEqual(['mousemove 5 6', 'mousedown 1']);
    expect(x.commands(ev('input::touch-start', { id: 8, x: 50, y: 60 }))).toEqual([]);
    expect(x.commands(ev('input::touch-move', { id: 8, x: 50, y: 60 }))).toEqual([]);
    expect(x.commands(ev('input::touch-move', { id: 7, x: 9, y: 9 }))).toEqual(['mousemove 9 9']);
    expect(x.commands(ev('input::touch-end', { id: 7 }))).toEqual(['mouseup 1']);
    expect(x.commands(ev('input::touch-start', { id: 8, x: 1, y: 1 }))).toEqual(['mousemove 1 1', 'mousedown 1']);
  });

  it('drops what it cannot or must not inject', () => {
    const x = new XdotoolInput(320, 240);
    expect(x.commands(ev('input::gamepad-button', { id: 0, index: 1, pressed: true }))).toEqual([]);
    expect(x.commands(ev('input::key', { code: '30; rm -rf /', pressed: true }))).toEqual([]);
    expect(x.commands(ev('input::mouse-move', { x: 'a', y: 1 }))).toEqual([]);
    expect(x.commands(ev('input::mouse-button', { button: 9, pressed: true }))).toEqual([]);
    expect(x.commands(ev('stream::disconnect'))).toEqual([]);
    expect(x.commands({ type: 'input::key', data: null })).toEqual([]);
  });
});
