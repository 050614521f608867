/**
 * Typed domain errors with a stable `code`. `instanceof` does not survive NATS, codes do:
 * every surface (HTTP, WebSocket, RPC) maps errors by `code` only.
 */
export const ERROR_STATUS = {
  invalid_argument: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  insufficient_capacity: 409,
  payload_too_large: 413,
  too_many_requests: 429,
  internal: 500,
  unavailable: 503,
  no_responder: 503,
  timeout: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** What an error looks like on the wire (RPC replies, logs). */
export interface ErrorPayload {
  code: ErrorCode;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  get status(): number {
    return ERROR_STATUS[this.code] ?? 500;
  }

  toPayload(): ErrorPayload {
    return { code: this.code, message: this.message };
  }

  /** Rebuilds a DomainError from anything that carries `{code, message}` (e.g. an RPC reply). */
  static from(value: unknown): DomainError {
    if (value instanceof DomainError) return value;
    if (isErrorPayload(value)) return new DomainError(value.code, value.message);
    const message = value instanceof Error ? value.message : String(value);
    return new DomainError('internal', message);
  }
}

export function isErrorPayload(value: unknown): value is ErrorPayload {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ErrorPayload).code === 'string' &&
    (value as ErrorPayload).code in ERROR_STATUS &&
    typeof (value as ErrorPayload).message === 'string'
  );
}

export const notFound = (what: string, id: string | number) =>
  new DomainError('not_found', `${what} ${JSON.stringify(String(id))} not found`);
export const invalid = (message: string) => new DomainError('invalid_argument', message);
export const conflict = (message: string) => new DomainError('conflict', message);
