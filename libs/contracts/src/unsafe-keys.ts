/**
 * Object keys no request may use, at any depth. class-transformer builds a nested object it has
 * no declared type for with `new value.constructor()`: an own "constructor" key that is not a
 * function crashed the request (a 500, "targetType is not a constructor"), whatever the field.
 * "__proto__" and "prototype" reach object prototypes elsewhere. Refused with a 400 instead.
 */
export const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** The dotted path of the first unsafe key in a parsed JSON or YAML value, or null. */
export function findUnsafeKey(value: unknown, path = ''): string | null {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnsafeKey(value[i], `${path}[${i}]`);
      if (found !== null) return found;
    }
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    if (UNSAFE_KEYS.has(key)) return childPath;
    const found = findUnsafeKey(child, childPath);
    if (found !== null) return found;
  }
  return null;
}

/** A JSON.parse reviver that refuses unsafe keys (for body parsers: the throw becomes a 400). */
export function refuseUnsafeKeys(key: string, value: unknown): unknown {
  if (UNSAFE_KEYS.has(key)) throw new SyntaxError(`the key "${key}" is not allowed`);
  return value;
}
