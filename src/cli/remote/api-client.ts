/**
 * The one place where the CLI talks HTTP to a streamstack server (PROTOCOL.md §1, §2, §6).
 * Every answer is an envelope; callers get its `metadata`, or an ApiError that carries a
 * message a person can act on.
 */

export interface Envelope<T = unknown> {
  type: 'sync' | 'async' | 'error';
  status: string;
  status_code: number;
  metadata: T;
  total_size?: number;
  operation?: string;
  error?: string;
}

/** A failed call. `status` is the HTTP status, or 0 when no answer came at all. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** When `status` is 0: the network error code (ECONNREFUSED, …) or its reason. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface SendOptions {
  /** JSON-serialisable value, or raw bytes sent as they are. */
  body?: unknown;
  /** Content type of a raw body (JSON bodies are always application/json). */
  contentType?: string;
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

export class ApiClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly token?: string,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {
    // A trailing slash would double up with the absolute API paths.
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** Sends one request and returns the envelope's metadata. */
  async request<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    return (await this.send<T>(method, path, { body, contentType })).metadata;
  }

  /** Sends one request and returns the whole envelope (for `operation`, `total_size`). */
  async send<T = unknown>(method: string, path: string, options: SendOptions = {}): Promise<Envelope<T>> {
    const url = this.baseUrl + path;
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let payload: RequestInit['body'];
    if (options.body instanceof Uint8Array) {
      payload = options.body;
      headers['Content-Type'] = options.contentType ?? 'application/octet-stream';
    } else if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['Content-Type'] = 'application/json';
    }

    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: payload, signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      throw this.networkError(e, timeoutMs);
    }

    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw this.networkError(e, timeoutMs);
    }
    const envelope = parseEnvelope<T>(text);
    if (!envelope) {
      // 204 or an empty body is a success without metadata; anything else is not our server.
      if (res.ok && text.trim() === '') return { type: 'sync', status: 'success', status_code: res.status, metadata: undefined as T };
      const type = res.headers.get('content-type') ?? 'no content type';
      throw new ApiError(res.status, `unexpected answer from ${url} (HTTP ${res.status}, ${type}): is ${this.baseUrl} a streamstack server?`);
    }
    if (envelope.type === 'error' || !res.ok) {
      throw new ApiError(envelope.status_code || res.status, envelope.error || `HTTP ${res.status} ${res.statusText}`.trim());
    }
    return envelope;
  }

  private networkError(e: unknown, timeoutMs: number): ApiError {
    if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) {
      return new ApiError(0, `no answer from ${this.baseUrl} within ${Math.round(timeoutMs / 1000)} s`, 'ETIMEDOUT');
    }
    // fetch() hides the socket error behind `cause` (sometimes an AggregateError of them).
    const code = errorCode(e);
    return new ApiError(0, `cannot reach ${this.baseUrl}: is the server running?${code ? ` (${code})` : ''}`, code);
  }
}

function parseEnvelope<T>(text: string): Envelope<T> | null {
  if (!text) return null;
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && 'type' in value && 'status_code' in value) return value as Envelope<T>;
  } catch {
    // not JSON: reported by the caller
  }
  return null;
}

/** The socket error code behind fetch()'s "fetch failed" (or the cause's message if it has none). */
function errorCode(e: unknown): string | undefined {
  let message: string | undefined;
  for (let cur: unknown = e, depth = 0; cur && typeof cur === 'object' && depth < 5; depth++) {
    const c = cur as { code?: unknown; cause?: unknown; errors?: unknown[]; message?: unknown };
    if (typeof c.code === 'string') return c.code;
    if (depth > 0 && typeof c.message === 'string' && c.message) message = c.message;
    cur = Array.isArray(c.errors) && c.errors.length ? c.errors[0] : c.cause;
  }
  return message;
}
