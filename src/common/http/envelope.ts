/**
 * The response envelope of the gateway and AMS APIs (PROTOCOL.md §1). Controllers return plain
 * data (a `sync` answer) or one of these wrappers; `EnvelopeInterceptor` writes the envelope.
 */
export class ListResult<T> {
  constructor(
    readonly items: T[],
    readonly totalSize: number,
  ) {}
}

/** 202 with an operation the caller can poll or wait on. */
export class AsyncResult<T extends { id: string }> {
  constructor(
    readonly operation: T,
    readonly operationUrl: string,
  ) {}
}

export interface SyncEnvelope {
  type: 'sync';
  status: 'success';
  status_code: number;
  metadata: unknown;
  total_size?: number;
}

export interface AsyncEnvelope {
  type: 'async';
  status: 'success';
  status_code: 202;
  operation: string;
  metadata: unknown;
}

export interface ErrorEnvelope {
  type: 'error';
  status: 'failed';
  status_code: number;
  error: string;
  error_code?: string;
}

export function errorEnvelope(statusCode: number, error: string, code?: string): ErrorEnvelope {
  return { type: 'error', status: 'failed', status_code: statusCode, error, ...(code ? { error_code: code } : {}) };
}
