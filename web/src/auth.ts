import { GatewayApi, StreamError } from '../../libs/client-sdk/src';

/** Where the token lives: this tab's sessionStorage only (PROTOCOL.md §10), never a cookie. */
const TOKEN_KEY = 'streamstack.token';

export interface Account {
  token: string;
  api: GatewayApi;
  admin: boolean;
}

export const storedToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * Checks a token against the gateway and keeps it for this tab. The accounts list answers
 * admins only: 200 is an admin, 403 a client account, 401 a token that is not valid.
 */
export async function signIn(token: string): Promise<Account> {
  const api = new GatewayApi(location.origin, token);
  let admin = true;
  try {
    await api.request('GET', '/1.0/accounts');
  } catch (e) {
    if (!(e instanceof StreamError) || e.code !== 'forbidden') throw e;
    admin = false;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  return { token, api, admin };
}

/**
 * The deep link of PROTOCOL.md §10: `#token=…&app=…`. Read once and removed from the address
 * bar (and from history) before anything else runs.
 */
export function takeDeepLink(): { token?: string; app?: string } {
  if (!location.hash.startsWith('#') || location.hash.length < 2) return {};
  const params = new URLSearchParams(location.hash.slice(1));
  history.replaceState(null, '', location.pathname + location.search);
  return { token: params.get('token') || undefined, app: params.get('app') || undefined };
}
