import { Injectable } from '@nestjs/common';
import { DomainError } from '@streamstack/contracts';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Clock } from '../../common/clock';
import { StreamstackConfig } from '../../config/config.schema';

/** How long a client's signalling ticket may wait before its socket is opened. */
export const TICKET_TTL_MS = 60_000;
/** An instance-side ticket is handed to a streamer that may attach any time in a session's life. */
export const INSTANCE_TICKET_TTL_MS = 24 * 60 * 60_000;

export type TicketRole = 'client' | 'instance';

export interface Ticket {
  /** session id */
  s: string;
  /** the client generation it was issued for */
  g: number;
  r: TicketRole;
  /** expiry, ms since the epoch */
  e: number;
  /** nonce: a ticket opens one socket */
  n: string;
  /** a spectator's ticket: `g` is its own id, not a client generation */
  v?: 1;
}

/**
 * Session-bound, short-lived, HMAC-signed tickets that authorise a signalling socket on its
 * HTTP upgrade (PROTOCOL.md §2). The key lives in the gateway's data dir, so tickets survive a
 * restart of the process.
 */
@Injectable()
export class TicketService {
  private readonly key: Buffer;

  constructor(
    config: StreamstackConfig,
    private readonly clock: Clock,
  ) {
    this.key = loadOrCreateKey(join(config.dataDir, 'signalling.key'));
  }

  issue(sessionId: string, generation: number, role: TicketRole, options: { spectator?: boolean } = {}): string {
    const ttl = role === 'instance' ? INSTANCE_TICKET_TTL_MS : TICKET_TTL_MS;
    const ticket: Ticket = { s: sessionId, g: generation, r: role, e: this.clock.now() + ttl, n: randomBytes(9).toString('base64url'), ...(options.spectator ? { v: 1 } : {}) };
    const body = Buffer.from(JSON.stringify(ticket)).toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  /** The ticket's claims, if its signature holds and it has not expired; else a 401/403 error. */
  verify(token: string | null, role: TicketRole): Ticket {
    if (!token) throw new DomainError('unauthorized', 'missing signalling ticket: use the url that creating or joining the session returned');
    const [body, signature] = token.split('.');
    const expected = body ? this.sign(body) : '';
    if (!body || !signature || signature.length !== expected.length || !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))) {
      throw new DomainError('unauthorized', 'invalid signalling ticket');
    }
    const ticket = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Ticket;
    if (ticket.e < this.clock.now()) throw new DomainError('unauthorized', 'the signalling ticket has expired: join the session again');
    if (ticket.r !== role) throw new DomainError('forbidden', `this ticket is for the ${ticket.r} side`);
    return ticket;
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}

function loadOrCreateKey(file: string): Buffer {
  if (existsSync(file)) return readFileSync(file);
  mkdirSync(join(file, '..'), { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key, { mode: 0o600, flag: 'wx' });
  return key;
}
