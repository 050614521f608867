/** nats.js and socket error codes that mean "the NATS server cannot be reached right now". */
const CONNECTION_CODES = new Set([
  'CONNECTION_REFUSED',
  'CONNECTION_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_DRAINING',
  'DISCONNECT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EAI_AGAIN',
]);

export function isNatsConnectionError(err: unknown): boolean {
  if (typeof err === 'string') {
    // ClientNats rejects requests with this bare string while nats.js reconnects.
    return /connection lost/i.test(err);
  }
  if (err && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
    const message = (err as { message?: unknown }).message;
    if (typeof message === 'string' && /connection lost/i.test(message)) return true;
  }
  return false;
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (err && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') {
    return (err as { message: string }).message;
  }
  return String(err);
}
