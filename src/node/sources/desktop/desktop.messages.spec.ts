import { parseDesktopInbound } from './desktop.messages';

describe('parseDesktopInbound (what the runtime sends the desktop helper)', () => {
  it('keeps a resize and a clipboard text', () => {
    expect(parseDesktopInbound({ kind: 'resize', id: 3, width: 800, height: 600, extra: 1 })).toEqual({ kind: 'resize', id: 3, width: 800, height: 600 });
    expect(parseDesktopInbound({ kind: 'clipboard', text: '' })).toEqual({ kind: 'clipboard', text: '' });
  });

  it.each<[string, unknown]>([
    ['not an object', 'resize'],
    ['null', null],
    ['an unknown kind', { kind: 'reboot' }],
    ['a resize without an id', { kind: 'resize', width: 800, height: 600 }],
    ['a resize to 0x0', { kind: 'resize', id: 1, width: 0, height: 0 }],
    ['a resize beyond 65535', { kind: 'resize', id: 1, width: 70_000, height: 600 }],
    ['a fractional size', { kind: 'resize', id: 1, width: 800.5, height: 600 }],
    ['a clipboard without text', { kind: 'clipboard' }],
    ['a clipboard text that is not a string', { kind: 'clipboard', text: 42 }],
  ])('refuses %s', (_what, message) => {
    expect(parseDesktopInbound(message)).toBeNull();
  });
});
