/**
 * NATS subject rules, shared by the in-process transport so that a pattern means the same thing
 * in both shapes: tokens are separated by `.`, `*` matches exactly one token, `>` (last token
 * only) matches one or more remaining tokens.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === '>') return i === p.length - 1 && s.length > i;
    if (i >= s.length) return false;
    if (token !== '*' && token !== s[i]) return false;
  }
  return p.length === s.length;
}

/** True when the pattern contains a wildcard token (so it can match more than one subject). */
export function isWildcard(pattern: string): boolean {
  return pattern.split('.').some((t) => t === '*' || t === '>');
}

/**
 * What crosses the wire over NATS is JSON; the in-process transport pushes every payload
 * through the same round trip so that class instances, Dates and `undefined` fields behave
 * identically in one process and across processes.
 */
export function jsonRoundTrip<T>(value: T): T {
  if (value === undefined) return value;
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * The concrete subject a handler was invoked for (e.g. `signal.abc.to-instance` for a handler
 * on `signal.*.to-instance`). Works with the NatsContext of both transports.
 */
export function subjectOf(ctx: unknown): string | undefined {
  if (ctx && typeof ctx === 'object') {
    const c = ctx as { getSubject?: () => unknown; getArgByIndex?: (i: number) => unknown };
    const subject =
      typeof c.getSubject === 'function'
        ? c.getSubject()
        : typeof c.getArgByIndex === 'function'
          ? c.getArgByIndex(0)
          : undefined;
    if (typeof subject === 'string') return subject;
  }
  return undefined;
}
