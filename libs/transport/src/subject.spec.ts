import { NatsContext } from '@nestjs/microservices';
import { isWildcard, jsonRoundTrip, subjectMatches, subjectOf } from './subject';

describe('subjectMatches (NATS subject rules)', () => {
  it.each([
    ['a.b.c', 'a.b.c', true],
    ['a.b.c', 'a.b', false],
    ['a.b', 'a.b.c', false],
    ['a.b.c', 'a.b.d', false],
    ['signal.*.to-instance', 'signal.abc.to-instance', true],
    ['signal.*.to-instance', 'signal.abc.to-client', false],
    ['signal.*.to-instance', 'signal.a.b.to-instance', false],
    ['signal.*.to-instance', 'signal.to-instance', false],
    ['*.b', 'a.b', true],
    ['*', 'a', true],
    ['*', 'a.b', false],
    ['node.>', 'node.n1.instance.start', true],
    ['node.>', 'node.n1', true],
    ['node.>', 'node', false],
    ['>', 'anything.at.all', true],
    ['a.*.>', 'a.b.c', true],
    ['a.*.>', 'a.b', false],
    ['a.>.c', 'a.b.c', false], // `>` is only special as the last token
  ])('%s vs %s -> %s', (pattern, subject, expected) => {
    expect(subjectMatches(pattern, subject)).toBe(expected);
  });

  it('tells wildcard patterns apart', () => {
    expect(isWildcard('a.*.c')).toBe(true);
    expect(isWildcard('a.>')).toBe(true);
    expect(isWildcard('a.b*.c')).toBe(false);
    expect(isWildcard('a.b.c')).toBe(false);
  });
});

describe('jsonRoundTrip', () => {
  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
    norm() {
      return Math.hypot(this.x, this.y);
    }
  }

  it('keeps only what JSON carries', () => {
    const out = jsonRoundTrip({ d: new Date(1000), u: undefined, p: new Point(3, 4), n: null, list: [undefined, 1] });
    expect(out).toEqual({ d: '1970-01-01T00:00:01.000Z', p: { x: 3, y: 4 }, n: null, list: [null, 1] });
    expect('u' in out).toBe(false);
    expect(out.p).not.toBeInstanceOf(Point);
  });

  it('passes undefined through and fails on what JSON cannot carry', () => {
    expect(jsonRoundTrip(undefined)).toBeUndefined();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => jsonRoundTrip(cyclic)).toThrow(TypeError);
    expect(() => jsonRoundTrip({ big: 1n })).toThrow(TypeError);
  });
});

describe('subjectOf', () => {
  it('reads the subject of a NatsContext and of anything shaped like one', () => {
    expect(subjectOf(new NatsContext(['signal.s1.to-client', undefined]))).toBe('signal.s1.to-client');
    expect(subjectOf({ getArgByIndex: () => 'x.y' })).toBe('x.y');
    expect(subjectOf(undefined)).toBeUndefined();
    expect(subjectOf({})).toBeUndefined();
  });
});
