import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError } from '@streamstack/contracts';
import type { Request } from 'express';
import type { AccountRole } from '@streamstack/contracts';
import { Caller, PUBLIC_ROUTE, REQUIRED_ROLE } from './auth.decorators';
import { hashToken, tokenFromRequest } from './credentials';
import { TokenVerifier } from './token-verifier';

/**
 * Authenticates every HTTP route that is not @Public(). The gateway owns the accounts; the
 * TokenVerifier reads them in its process and asks it over the bus (remembering the answer)
 * in any other, so the same guard works in one process and split over NATS.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const req = context.switchToHttp().getRequest<Request & { caller?: Caller }>();
    const caller = await this.authenticate(req);
    const role = this.reflector.getAllAndOverride<AccountRole | undefined>(REQUIRED_ROLE, targets);
    if (role === 'admin' && caller.role !== 'admin') {
      throw new DomainError('forbidden', 'this route needs an admin account');
    }
    req.caller = caller;
    return true;
  }

  async authenticate(req: Pick<Request, 'headers' | 'query'>): Promise<Caller> {
    const token = tokenFromRequest(req.headers.authorization, req.query as Record<string, unknown>);
    if (!token) {
      throw new DomainError('unauthorized', 'missing credentials: send "Authorization: Bearer <token>" or "Macaroon root=<token>"');
    }
    const caller = await this.tokens.verify(hashToken(token));
    if (!caller) throw new DomainError('unauthorized', 'invalid or revoked token');
    return caller;
  }
}
