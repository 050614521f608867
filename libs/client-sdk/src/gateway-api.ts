import type { ScreenView, SessionStatus, SessionView } from '../../contracts/src/views';
import { errorFromStatus, StreamError } from './errors';

/** The remote screen of a session (PROTOCOL.md §3). */
export type Screen = ScreenView;

/** A session as the gateway describes it. */
export type Session = SessionView;

export type { SessionStatus };

export interface StunServer {
  urls: string[];
  username: string;
  password: string;
}

/** What creating or joining a session adds: where to signal, and the ICE servers to use. */
export interface Signalling {
  url: string;
  stun_servers: StunServer[];
}

/** `POST /1.0/sessions` (PROTOCOL.md §3). */
export interface CreateSessionRequest {
  app: string;
  app_version?: number;
  region?: string;
  ephemeral?: boolean;
  joinable?: boolean;
  idle_time_min?: number;
  screen?: Partial<Screen>;
  extra_data?: unknown;
}

export interface ListOptions {
  status?: SessionStatus;
  limit?: number;
  offset?: number;
}

/** A page of a list, and how many there are in all. */
export interface Page<T> {
  items: T[];
  total: number;
}

interface Envelope {
  type?: string;
  status_code?: number;
  error?: string;
  metadata?: unknown;
  total_size?: number;
}

/**
 * The gateway's HTTP API (PROTOCOL.md §1-§3) with one account's token: every answer is
 * unwrapped from its envelope, every failure becomes a StreamError.
 */
export class GatewayApi {
  /** @param base the gateway's origin, e.g. `https://stream.example.com` */
  constructor(
    readonly base: string,
    private readonly token: string,
  ) {}

  /** Any route of the API (the AMS API too, for admin tokens); resolves with `metadata`. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await this.exchange<T>(method, path, body)).metadata;
  }

  /** A list route: its items and `total_size`. */
  async list<T>(path: string): Promise<Page<T>> {
    const { metadata, total } = await this.exchange<T[]>('GET', path);
    return { items: metadata ?? [], total: total ?? (metadata ?? []).length };
  }

  applications(): Promise<{ name: string }[]> {
    return this.request('GET', '/1.0/applications');
  }

  createSession(request: CreateSessionRequest): Promise<Session & Signalling> {
    return this.request('POST', '/1.0/sessions', request);
  }

  /** `mode: 'spectator'` watches beside the driver; the default takes a joinable session over. */
  joinSession(id: string, body: { screen?: Partial<Screen>; mode?: 'driver' | 'spectator' } = {}): Promise<{ id: string } & Signalling> {
    return this.request('POST', `/1.0/sessions/${encodeURIComponent(id)}/join`, body);
  }

  session(id: string): Promise<Session> {
    return this.request('GET', `/1.0/sessions/${encodeURIComponent(id)}`);
  }

  sessions(options: ListOptions = {}): Promise<Page<Session>> {
    const query = new URLSearchParams({ sort_by: 'created_at', sort_order: 'desc' });
    for (const [k, v] of Object.entries(options)) if (v !== undefined) query.set(k, String(v));
    return this.list(`/1.0/sessions?${query}`);
  }

  async endSession(id: string): Promise<void> {
    await this.request('DELETE', `/1.0/sessions/${encodeURIComponent(id)}`);
  }

  private async exchange<T>(method: string, path: string, body?: unknown): Promise<{ metadata: T; total?: number }> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      // A browser tells a refused cross-origin answer (STREAMSTACK_ALLOWED_ORIGINS) from a dead
      // server no better than this.
      throw new StreamError('gateway-unavailable', `the gateway at ${this.base} did not answer, or does not allow pages from ${location.origin} (${(e as Error).message})`);
    }
    let envelope: Envelope | null = null;
    try {
      envelope = (await response.json()) as Envelope;
    } catch {
      // not JSON: a proxy's error page, say
    }
    if (!response.ok || envelope?.type === 'error') {
      const status = envelope?.status_code ?? response.status;
      const message = envelope?.error ?? `${method} ${path} answered ${response.status} ${response.statusText}`;
      throw errorFromStatus(status, message, response.headers.get('retry-after'));
    }
    if (!envelope) throw new StreamError('gateway-unavailable', `${method} ${path} answered something that is not JSON`);
    return { metadata: envelope.metadata as T, total: envelope.total_size };
  }
}
