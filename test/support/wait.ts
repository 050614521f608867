/** Resolves once `check()` holds (polled every 20 ms); rejects after `timeoutMs`. */
export function waitUntil(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`condition not met within ${timeoutMs} ms`));
      setTimeout(tick, 20);
    };
    tick();
  });
}
