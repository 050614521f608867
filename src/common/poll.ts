/**
 * Polls `value` every `everyMs` until it gives something (anything but null, undefined or
 * false) and resolves with it; rejects after `timeoutMs` saying `${what}: not within ${timeoutMs} ms`.
 * For what announces itself only by appearing (a socket file, a route, a line in a log).
 */
export async function pollUntil<T>(value: () => T | null | undefined | false, timeoutMs: number, what: string, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = value();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Whether `promise` settles (fulfilled or rejected) within `ms`: true as soon as it does, false
 * when `ms` passed first. For a bounded wait whose outcome the caller reads elsewhere.
 */
export function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const settled = () => {
      clearTimeout(timer);
      resolve(true);
    };
    void promise.then(settled, settled);
  });
}
