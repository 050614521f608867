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
    expect(x.commands(ev('input::key', { code: 30, pressed: true }))).toEqual(['keydown 38']); // KEY_A
    expect(x.commands(ev('input::key', { code: 1, pressed: false }))).toEqual(['keyup Escape']); // keycode 9
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
