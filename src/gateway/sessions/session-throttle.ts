import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail, type ThrottlerModuleOptions } from '@nestjs/throttler';
import { DomainError } from '@streamstack/contracts';
import type { Request, Response } from 'express';
import type { Caller } from '../../common/auth/auth.decorators';
import type { StreamstackConfig } from '../../config/config.schema';

type CallerRequest = Request & { caller?: Caller };

/**
 * Limits on session creations and joins (each starts or takes over an instance): per client
 * account and per client address, a minute each. Admins (operators, load tests) are not limited.
 */
export function sessionThrottlers(config: StreamstackConfig): ThrottlerModuleOptions {
  return {
    throttlers: [
      { name: 'account', ttl: 60_000, limit: config.sessionRatePerAccount, getTracker: (req) => `account ${(req as CallerRequest).caller?.id ?? '-'}` },
      { name: 'address', ttl: 60_000, limit: config.sessionRatePerAddress, getTracker: (req) => `address ${(req as CallerRequest).ip ?? '-'}` },
    ],
    skipIf: (context) => context.switchToHttp().getRequest<CallerRequest>().caller?.role === 'admin',
    // One count for creations and joins together (by default each route counts on its own).
    generateKey: (_context, tracker, name) => `${name}:${tracker}`,
    setHeaders: false,
  };
}

/** Answers a request over a limit with 429, `Retry-After` and which limit it hit. */
@Injectable()
export class SessionThrottleGuard extends ThrottlerGuard {
  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const retryAfter = Math.max(1, Math.ceil(detail.timeToBlockExpire));
    context.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(retryAfter));
    const who = detail.tracker.startsWith('account') ? 'this account' : 'this address';
    throw new DomainError('too_many_requests', `too many sessions created or joined by ${who}: at most ${detail.limit} a minute; retry in ${retryAfter} s`);
  }
}
