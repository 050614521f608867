import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { AccountRole } from '@streamstack/contracts';

export const PUBLIC_ROUTE = 'streamstack:public';
export const REQUIRED_ROLE = 'streamstack:role';

/** No credentials needed (status, metrics, docs). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
/** Only accounts of this role (on a controller or a route). */
export const RequireRole = (role: AccountRole) => SetMetadata(REQUIRED_ROLE, role);

/** Who is calling, as the gateway's account registry answered. */
export interface Caller {
  id: string;
  name: string;
  role: AccountRole;
}

export const CurrentCaller = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Caller => ctx.switchToHttp().getRequest<{ caller: Caller }>().caller,
);
