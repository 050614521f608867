/**
 * Every failure the SDK reports is a StreamError with a stable `code`, so that a page can
 * branch on what went wrong without parsing messages.
 */
export type StreamErrorCode =
  /** The token is missing, wrong, expired or revoked (401). */
  | 'unauthorised'
  /** The token is valid but may not do this, or the page's origin is not allowed (403). */
  | 'forbidden'
  /** The application or session does not exist, or belongs to another account (404). */
  | 'not-found'
  /** Too many sessions created or joined a minute (429); `retryAfterSeconds` says when to try again. */
  | 'rate-limited'
  /** The gateway refused the request as malformed (400, 409). */
  | 'bad-request'
  /** The gateway did not answer, or answered with a server error. */
  | 'gateway-unavailable'
  /** The signalling exchange failed before a connection was made. */
  | 'signalling-failed'
  /** No network path to the instance was found (ICE failed). */
  | 'ice-failed'
  /** An established connection dropped and could not be made again. */
  | 'connection-lost'
  /** The session ended (deleted, expired, or its instance stopped). */
  | 'session-ended';

export class StreamError extends Error {
  override readonly name = 'StreamError';

  constructor(
    readonly code: StreamErrorCode,
    message: string,
    /** The HTTP status, when the gateway answered with one. */
    readonly status?: number,
    /** For `rate-limited`: seconds to wait, from the gateway's Retry-After. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** The StreamError for a gateway answer that was not a success. */
export function errorFromStatus(status: number, message: string, retryAfter?: string | null): StreamError {
  switch (status) {
    case 401:
      return new StreamError('unauthorised', message, status);
    case 403:
      return new StreamError('forbidden', message, status);
    case 404:
      return new StreamError('not-found', message, status);
    case 429: {
      const seconds = retryAfter ? Number(retryAfter) : NaN;
      return new StreamError('rate-limited', message, status, Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined);
    }
    default:
      return new StreamError(status >= 500 ? 'gateway-unavailable' : 'bad-request', message, status);
  }
}
