import { findUnsafeKey, refuseUnsafeKeys } from './unsafe-keys';

describe('findUnsafeKey', () => {
  it('names the first constructor / __proto__ / prototype key at any depth, lists included', () => {
    expect(findUnsafeKey(JSON.parse('{"a":1,"b":{"c":[1,{"constructor":2}]}}'))).toBe('b.c[1].constructor');
    expect(findUnsafeKey(JSON.parse('{"__proto__":{"x":1}}'))).toBe('__proto__');
    expect(findUnsafeKey(JSON.parse('[{"prototype":0}]'))).toBe('[0].prototype');
  });

  it('passes everything else, values that spell those words included', () => {
    for (const v of [null, 1, 'constructor', [], {}, { name: 'constructor', list: ['__proto__'] }, { constructors: 1, proto: 2 }]) expect(findUnsafeKey(v)).toBeNull();
  });
});

describe('refuseUnsafeKeys (a JSON.parse reviver)', () => {
  it('throws a SyntaxError naming the key, and leaves other documents as they are', () => {
    expect(() => JSON.parse('{"a":{"constructor":1}}', refuseUnsafeKeys)).toThrow(new SyntaxError('the key "constructor" is not allowed'));
    expect(() => JSON.parse('{"__proto__":[]}', refuseUnsafeKeys)).toThrow(/"__proto__" is not allowed/);
    expect(JSON.parse('{"a":[1,{"b":"constructor"}]}', refuseUnsafeKeys)).toEqual({ a: [1, { b: 'constructor' }] });
  });
});
