import { parseControlMessage } from './control-input';

describe('parseControlMessage', () => {
  it.each([
    [{ type: 'input::mouse-move', data: { x: 10, y: 20, rx: 1, ry: -1 } }, { x: 10, y: 20, rx: 1, ry: -1 }],
    [{ type: 'input::mouse-move', data: { x: 10.5, y: 20 } }, { x: 10.5, y: 20, rx: 0, ry: 0 }],
    [{ type: 'input::mouse-button', data: { button: 3, pressed: false } }, { button: 3, pressed: false }],
    [{ type: 'input::mouse-wheel', data: { x: 0, y: -120 } }, { x: 0, y: -120 }],
    [{ type: 'input::key', data: { code: 30, pressed: true } }, { code: 30, pressed: true }],
    [{ type: 'input::touch-start', data: { id: 0, x: 1, y: 2 } }, { id: 0, x: 1, y: 2 }],
    [{ type: 'input::touch-move', data: { id: 1, x: 1, y: 2 } }, { id: 1, x: 1, y: 2 }],
    [{ type: 'input::touch-end', data: { id: 1 } }, { id: 1 }],
    [{ type: 'input::touch-cancel', data: { id: 1 } }, { id: 1 }],
    [{ type: 'input::gamepad-button', data: { id: 0, index: 3, pressed: true } }, { id: 0, index: 3, pressed: true }],
    [{ type: 'input::gamepad-axes', data: { id: 0, index: 1, value: -0.5 } }, { id: 0, index: 1, value: -0.5 }],
  ])('accepts %j', (message, data) => {
    expect(parseControlMessage(JSON.stringify(message))).toEqual({ kind: 'input', event: { type: message.type, data } });
  });

  it('drops fields it does not know and reads bytes as UTF-8', () => {
    const raw = Buffer.from(JSON.stringify({ type: 'input::key', data: { code: 1, pressed: true, sneaky: { a: 1 } }, extra: 1 }));
    expect(parseControlMessage(raw)).toEqual({ kind: 'input', event: { type: 'input::key', data: { code: 1, pressed: true } } });
  });

  it('knows stream::disconnect', () => {
    expect(parseControlMessage('{"type":"stream::disconnect","data":{}}')).toEqual({ kind: 'disconnect' });
  });

  it('knows clipboard::set pieces and screen::resize', () => {
    expect(parseControlMessage('{"type":"clipboard::set","data":{"text":"héllo"}}')).toEqual({ kind: 'clipboard', text: 'héllo', more: false });
    expect(parseControlMessage('{"type":"clipboard::set","data":{"text":"","more":true}}')).toEqual({ kind: 'clipboard', text: '', more: true });
    expect(parseControlMessage('{"type":"screen::resize","data":{"width":1024,"height":768}}')).toEqual({ kind: 'resize', width: 1024, height: 768 });
  });

  it.each([
    ['{"type":"clipboard::set","data":{}}', /data.text must be a string/],
    ['{"type":"clipboard::set","data":{"text":1}}', /data.text must be a string/],
    ['{"type":"clipboard::set","data":{"text":"a","more":"yes"}}', /data.more must be a boolean/],
    ['{"type":"screen::resize","data":{"width":0,"height":0}}', /data.width must be a whole number of pixels, at least 1/],
    ['{"type":"screen::resize","data":{"width":800.5,"height":600}}', /data.width/],
    ['{"type":"screen::resize","data":{"width":800,"height":"600"}}', /data.height/],
    ['{"type":"screen::resize","data":{"width":800,"height":1e9}}', /data.height/],
    ['{not json', /JSON/],
    ['null', /object/],
    ['[1]', /object/],
    ['{"data":{}}', /type/],
    ['{"type":"input::fly","data":{}}', /unknown type/],
    ['{"type":"input::key","data":[]}', /data must be an object/],
    ['{"type":"input::key","data":{"code":"30","pressed":true}}', /code must be a number/],
    ['{"type":"input::key","data":{"code":30.5,"pressed":true}}', /integer/],
    ['{"type":"input::key","data":{"code":-1,"pressed":true}}', /within/],
    ['{"type":"input::key","data":{"code":93,"pressed":true}}', /within 0\.\.92/], // past the SDK's key table
    ['{"type":"input::key","data":{"code":30,"pressed":"yes"}}', /boolean/],
    ['{"type":"input::mouse-button","data":{"button":1}}', /pressed is missing/],
    ['{"type":"input::mouse-button","data":{"button":0,"pressed":true}}', /within/],
    ['{"type":"input::mouse-move","data":{"x":1e300,"y":0}}', /within/],
    ['{"type":"input::gamepad-axes","data":{"id":0,"index":0,"value":2}}', /within/],
    ['{"type":"input::touch-end","data":{}}', /missing/],
    [`{"type":"input::key","data":{"code":30,"pressed":true,"pad":"${'x'.repeat(70_000)}"}}`, /larger than/],
  ])('rejects %s', (raw, reason) => {
    const result = parseControlMessage(raw);
    expect(result.kind).toBe('invalid');
    expect(result.kind === 'invalid' && result.reason).toMatch(reason);
  });
});
