import { createHmac } from 'node:crypto';

export interface StunServer {
  urls: string[];
  username: string;
  password: string;
}

/**
 * The `stun_servers` of a session (PROTOCOL.md §8): STUN URLs without credentials, TURN URLs
 * with coturn REST-API credentials: username `<unix expiry>:<session id>`, password
 * base64(HMAC-SHA1(secret, username)).
 */
export function stunServersFor(
  sessionId: string,
  config: { stunUrls: string[]; turnUrls: string[]; turnSecret: string; turnTtl: number },
  nowMs: number,
): StunServer[] {
  const servers: StunServer[] = [];
  if (config.stunUrls.length > 0) servers.push({ urls: config.stunUrls, username: '', password: '' });
  if (config.turnUrls.length > 0) {
    const username = `${Math.floor(nowMs / 1000) + config.turnTtl}:${sessionId}`;
    const password = createHmac('sha1', config.turnSecret).update(username).digest('base64');
    servers.push({ urls: config.turnUrls, username, password });
  }
  return servers;
}
