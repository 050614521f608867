import { Injectable } from '@nestjs/common';
import { DomainError, Patterns } from '@streamstack/contracts';
import { RpcClient, unanswered } from '@streamstack/transport';
import { Clock } from '../clock';
import type { Caller } from './auth.decorators';

/** Who a token hash belongs to, or null: what the gateway's account registry answers. */
export interface AccountLookup {
  verify(tokenHash: string): Promise<Caller | null>;
}

/** A vouched-for token is trusted this long without asking again. */
export const TOKEN_FRESH_MS = 30_000;
/** ...and this long while the gateway cannot be asked (its processes or the bus are down). */
export const TOKEN_STALE_MS = 15 * 60_000;
/** Tokens remembered at most (the least recently vouched for go first). */
const MAX_REMEMBERED = 10_000;

/**
 * Turns a token's hash into its caller, for every role that serves HTTP. A process with the
 * gateway role reads its own accounts (`useLocal`): nothing between it and its database. Any
 * other asks the gateway over the bus and remembers the answer briefly, and longer while the
 * gateway does not answer, so that reads keep working through a gateway or NATS outage. A
 * revoked account's tokens are forgotten when the gateway says so (`forgetAccount`); a
 * revocation made while the bus is down reaches this process only when it is back.
 */
@Injectable()
export class TokenVerifier {
  private local: AccountLookup | null = null;
  private readonly remembered = new Map<string, { caller: Caller; at: number }>();

  constructor(
    private readonly rpc: RpcClient,
    private readonly clock: Clock,
  ) {}

  /** The gateway role registers its registry here when it runs in this process. */
  useLocal(lookup: AccountLookup): void {
    this.local = lookup;
  }

  async verify(tokenHash: string): Promise<Caller | null> {
    if (this.local) return this.local.verify(tokenHash);
    const now = this.clock.now();
    const known = this.remembered.get(tokenHash);
    if (known && now - known.at < TOKEN_FRESH_MS) return known.caller;
    let caller: Caller | null;
    try {
      caller = await this.rpc.request<Caller | null>(Patterns.accountVerify, { token_hash: tokenHash });
    } catch (e) {
      const err = DomainError.from(e);
      if (known && unanswered(err) && now - known.at < TOKEN_STALE_MS) return known.caller;
      throw err;
    }
    this.remembered.delete(tokenHash);
    if (caller) {
      this.remembered.set(tokenHash, { caller, at: now });
      if (this.remembered.size > MAX_REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!);
    }
    return caller;
  }

  forgetAccount(id: string): void {
    for (const [hash, { caller }] of this.remembered) if (caller.id === id) this.remembered.delete(hash);
  }
}
