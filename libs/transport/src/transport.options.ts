import { Limits } from '@streamstack/contracts';
import type { NatsOptions } from '@nestjs/microservices';
import { credsAuthenticator } from 'nats';
import { readFileSync } from 'node:fs';

export type TransportKind = 'local' | 'nats';

export interface TransportModuleOptions {
  /** `local`: every role in this process, in-process bus. `nats`: roles split over NATS. */
  kind: TransportKind;
  /** NATS server URLs (ignored by `local`). */
  natsServers: string[];
  /** Default timeout of every request (ms); a call may override it. */
  requestTimeoutMs?: number;
  /** Connection name shown by the NATS server (`streamstack` when unset). */
  name?: string;
  /**
   * Wait between NATS (re)connection attempts (ms, default 2000). The server side retries its
   * first connection at this pace too, so a role started before nats-server comes up serves its
   * patterns once it is up instead of crashing.
   */
  natsReconnectWaitMs?: number;
  /**
   * NATS queue group of request handlers (default `streamstack`): when several processes serve
   * the same request pattern, exactly one of them handles each request. Events stay fan-out.
   */
  natsRequestQueue?: string;
  /** How this process proves who it is to NATS (none: an open bus). */
  natsAuth?: NatsAuth;
}

/**
 * NATS credentials: a user and password, a token, or a `.creds` file (an NKey-signed user JWT,
 * for an operator-managed server).
 */
export interface NatsAuth {
  user?: string;
  password?: string;
  token?: string;
  credentialsFile?: string;
}

export type ResolvedTransportOptions = Required<TransportModuleOptions>;

/** DI token of the resolved options. */
export const TRANSPORT_OPTIONS = Symbol('TRANSPORT_OPTIONS');
/** DI token of the ClientProxy (LocalClientProxy or NatsTransportClient) under RpcClient. */
export const RPC_CLIENT_PROXY = Symbol('RPC_CLIENT_PROXY');

export function resolveTransportOptions(options: TransportModuleOptions): ResolvedTransportOptions {
  if (options.kind !== 'local' && options.kind !== 'nats') {
    throw new Error(`transport kind must be "local" or "nats", got ${JSON.stringify(options.kind)}`);
  }
  const servers = (options.natsServers ?? []).map((s) => s.trim()).filter(Boolean);
  if (options.kind === 'nats' && servers.length === 0) {
    throw new Error('the nats transport needs at least one NATS server URL');
  }
  const timeout = options.requestTimeoutMs ?? Limits.rpcTimeoutMs;
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw new Error(`requestTimeoutMs must be a positive number, got ${timeout}`);
  }
  return {
    kind: options.kind,
    natsServers: servers,
    requestTimeoutMs: timeout,
    name: options.name || 'streamstack',
    natsReconnectWaitMs: options.natsReconnectWaitMs ?? 2000,
    natsRequestQueue: options.natsRequestQueue || 'streamstack',
    natsAuth: options.natsAuth ?? {},
  };
}

/** Connection options shared by the NATS client and server of one process. */
export function natsConnectionOptions(
  options: ResolvedTransportOptions,
  role: 'client' | 'server',
): NonNullable<NatsOptions['options']> {
  return {
    servers: options.natsServers,
    name: `${options.name}-${role}`,
    // Never give up reconnecting: a bounded count would leave a long-running role with a dead
    // connection after a NATS outage longer than count x wait.
    maxReconnectAttempts: -1,
    reconnectTimeWait: options.natsReconnectWaitMs,
    // An unreachable host must not stall boot or shutdown for nats.js's default 20 s.
    timeout: Math.min(options.requestTimeoutMs, 5000),
    ...natsCredentials(options.natsAuth),
  };
}

function natsCredentials(auth: NatsAuth): Partial<NonNullable<NatsOptions['options']>> {
  if (auth.credentialsFile) return { authenticator: credsAuthenticator(new TextEncoder().encode(readFileSync(auth.credentialsFile, 'utf8'))) };
  if (auth.token) return { token: auth.token };
  if (auth.user) return { user: auth.user, pass: auth.password ?? '' };
  return {};
}
