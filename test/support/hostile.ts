import fc from 'fast-check';

/*
 * Hostile input for the fuzz suite: the property tests of every DTO and parser (unit specs)
 * and the HTTP + signalling fuzzer against the running stack (test/fuzz.e2e-spec.ts).
 *
 * FUZZ_SEED replays a run (each run prints its seed); FUZZ_SCALE multiplies how many cases each
 * property and the fuzzer try (the defaults, scale 1, keep `npm test` within its budget).
 */

export const FUZZ_SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);

/** fast-check parameters for a property worth `runs` cases by default. */
export const fuzzParams = (runs: number): fc.Parameters<unknown> => ({ seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(runs * SCALE)) });

/** The case count the HTTP/WebSocket fuzzer runs by default, scaled likewise. */
export const fuzzCount = (runs: number) => Math.max(1, Math.round(runs * SCALE));

/** Values that broke parsers elsewhere: edge numbers, number-like strings, prototype keys, deep and wide shapes. */
const SPECIAL: unknown[] = [
  null,
  '',
  ' ',
  '0',
  '-1',
  '1e400',
  '99999999999999999999',
  'NaN',
  'true',
  'null',
  '[]',
  '{}',
  '\u0000',
  '../../etc/passwd',
  '%00',
  '\ud800',
  'a'.repeat(5000),
  0,
  -0,
  -1,
  1.5,
  2 ** 31,
  2 ** 53,
  -(2 ** 53),
  1e308,
  Number.MAX_SAFE_INTEGER + 2,
  true,
  false,
  [],
  [null],
  {},
  JSON.parse('{"__proto__": {"admin": true}}'),
  { constructor: { prototype: { polluted: true } } },
  { toString: 'x', valueOf: 1 },
  [[[[[[[[[[[]]]]]]]]]]],
];

/** Any JSON-able value, weighted towards the ones that break code. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** A query-string value as Express's parser can hand it over: a string, a list, or a nested object. */
export const queryValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('', '0', '-1', '1', 'true', 'false', '1e400', '99999999999999999999', 'NaN', 'asc', 'desc', 'created_at', 'running', 'a'.repeat(300)),
  fc.string({ maxLength: 20 }),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
);

type Json = Record<string, unknown>;

/** Every path to a value inside `value` (objects and arrays), the root excluded. */
function pathsOf(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof value !== 'object' || value === null) return [];
  const keys: Array<string | number> = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((k) => [[...prefix, k], ...pathsOf((value as Json)[k as string], [...prefix, k])]);
}

type Mutation = { op: 'set' | 'delete' | 'add'; path: number; key: string; value: unknown };

function applyMutation(root: unknown, paths: Array<Array<string | number>>, m: Mutation): unknown {
  if (m.op === 'add' || paths.length === 0) {
    if (typeof root === 'object' && root !== null && !Array.isArray(root)) Object.defineProperty(root, m.key, { value: structuredClone(m.value), enumerable: true, writable: true, configurable: true });
    return root;
  }
  const path = paths[m.path % paths.length];
  let parent = root as Json;
  for (const k of path.slice(0, -1)) {
    parent = parent?.[k as string] as Json;
    if (typeof parent !== 'object' || parent === null) return root;
  }
  const last = path[path.length - 1] as string;
  if (m.op === 'delete') delete parent[last];
  // A copy: the special values are shared, and a later mutation may write inside this one.
  else parent[last] = structuredClone(m.value);
  return root;
}

/**
 * `valid` with one to three fields replaced by hostile values, deleted, or joined by an unknown
 * one; each mutation applies to a fresh deep copy. Mostly invalid, sometimes still valid.
 */
export function mutationsOf(valid: unknown, value: fc.Arbitrary<unknown> = hostileValue): fc.Arbitrary<unknown> {
  const paths = pathsOf(valid);
  const mutation = fc.record({
    op: fc.constantFrom<Mutation['op']>('set', 'set', 'delete', 'add'),
    path: fc.nat(),
    key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'type', 'id', ''), fc.string({ maxLength: 10 })),
    value,
  });
  return fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => ms.reduce((v, m) => applyMutation(v, paths, m), structuredClone(valid)));
}

/** A hostile stand-in for a whole body: a mutation of the valid one, or anything at all. */
export function hostileBody(valid: unknown): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 4, arbitrary: mutationsOf(valid) }, { weight: 1, arbitrary: hostileValue });
}
