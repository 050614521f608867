import { createHash } from 'node:crypto';

/**
 * The token a request carries (PROTOCOL.md §2): `Authorization: Macaroon root=<token>` (any
 * case), `Authorization: Bearer <token>`, or the `api_token` query parameter.
 */
export function tokenFromRequest(authorization: string | undefined, query: Record<string, unknown>): string | undefined {
  if (authorization) {
    const macaroon = /^macaroon\s+root=(\S+)$/i.exec(authorization.trim());
    if (macaroon) return macaroon[1];
    const bearer = /^bearer\s+(\S+)$/i.exec(authorization.trim());
    if (bearer) return bearer[1];
    return undefined;
  }
  const q = query.api_token;
  return typeof q === 'string' && q.length > 0 ? q : undefined;
}

/**
 * A browser cannot set headers on a WebSocket: it may carry its token as the subprotocol
 * `bearer.<token>` beside the protocol it speaks (`new WebSocket(url, ['streamstack.events',
 * 'bearer.' + token])`), which keeps it out of URLs and logs. Tokens are base64url, which
 * subprotocol names allow.
 */
export const SUBPROTOCOL_TOKEN_PREFIX = 'bearer.';

export function tokenFromSubprotocols(header: string | undefined): string | undefined {
  const entry = header
    ?.split(',')
    .map((p) => p.trim())
    .find((p) => p.startsWith(SUBPROTOCOL_TOKEN_PREFIX));
  const token = entry?.slice(SUBPROTOCOL_TOKEN_PREFIX.length);
  return token ? token : undefined;
}

export const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/** Replaces the value of `api_token` (and any other credential parameter) in a URL for logs. */
export const redactUrl = (url: string) => url.replace(/([?&](?:api_token|ticket|token)=)[^&#\s]*/gi, '$1[redacted]');
