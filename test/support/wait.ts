import { pollUntil } from '../../src/common/poll';

/** Resolves once `check()` holds (polled every 20 ms); rejects after `timeoutMs`. */
export function waitUntil(check: () => boolean, timeoutMs: number): Promise<void> {
  return pollUntil(check, timeoutMs, 'condition').then(() => undefined);
}
