import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError, Patterns } from '@streamstack/contracts';
import { RpcClient } from '@streamstack/transport';
import type { Request } from 'express';
import type { AccountRole } from '../../gateway/accounts/account.entity';
import { Caller, PUBLIC_ROUTE, REQUIRED_ROLE } from './auth.decorators';
import { hashToken, tokenFromRequest } from './credentials';

/**
 * Authenticates every HTTP route that is not @Public(). The gateway owns the accounts; any role
 * asks it through `gateway.account.verify` with the token's hash, so the same guard works in
 * one process and split over NATS.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly rpc: RpcClient,
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
    const caller = await this.rpc.request<Caller | null>(Patterns.accountVerify, { token_hash: hashToken(token) });
    if (!caller) throw new DomainError('unauthorized', 'invalid or revoked token');
    return caller;
  }
}
