/** A small fetch wrapper for e2e tests: returns status, the parsed envelope and headers. */
export interface Envelope<T = any> {
  type: 'sync' | 'async' | 'error';
  status: string;
  status_code: number;
  metadata: T;
  total_size?: number;
  operation?: string;
  error?: string;
  error_code?: string;
}

export interface Reply<T = any> {
  status: number;
  body: Envelope<T>;
  headers: Headers;
}

export function client(baseUrl: string, token?: string) {
  return async function call<T = any>(
    method: string,
    path: string,
    options: { body?: unknown; raw?: Buffer | string; contentType?: string; headers?: Record<string, string>; token?: string | null } = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    const auth = options.token === undefined ? token : options.token;
    if (auth) headers.authorization = `Bearer ${auth}`;
    let body: RequestInit['body'];
    if (options.raw !== undefined) {
      body = options.raw;
      headers['content-type'] = options.contentType ?? 'application/octet-stream';
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: Envelope<T>;
    try {
      parsed = JSON.parse(text) as Envelope<T>;
    } catch {
      parsed = { type: 'error', status: 'not-json', status_code: res.status, metadata: text as T, error: text };
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
}
