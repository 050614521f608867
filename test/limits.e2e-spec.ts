import { ADMIN_TOKEN, eventually, RunningApp, startApp } from './support/app';
import { client } from './support/http';
import { openSignalling } from './support/signalling';

/** Issue 8, item 4: limits on session creation and joins, security headers, foreign origins refused. */
describe('throttling, security headers and allowed origins', () => {
  let stack: RunningApp;
  let admin: ReturnType<typeof client>;

  beforeAll(async () => {
    stack = await startApp({ STREAMSTACK_SESSION_RATE_PER_ACCOUNT: '3', STREAMSTACK_SESSION_RATE_PER_ADDRESS: '5', STREAMSTACK_ALLOWED_ORIGINS: 'https://good.example' });
    admin = client(stack.url, ADMIN_TOKEN);
    await eventually(async () => (await admin('GET', '/1.0/status')).status === 200);
  });
  afterAll(() => stack?.close());

  it('sends security headers and a content security policy with every answer', async () => {
    const res = await fetch(`${stack.url}/1.0/status`);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'.*connect-src 'self' ws: wss:/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('answers a flood of session creations with 429 and Retry-After, per account and per address, creating nothing', async () => {
    const token = async (name: string) => (await admin('POST', '/1.0/accounts', { body: { name, role: 'client' } })).body.metadata.token as string;
    const alice = client(stack.url, await token('flood-alice'));
    const bob = client(stack.url, await token('flood-bob'));
    const create = (as: typeof alice) => as('POST', '/1.0/sessions', { body: { app: 'no-such-app' } });
    for (let i = 0; i < 3; i++) expect((await create(alice)).status).toBe(404);
    const limited = await create(alice);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ type: 'error', status_code: 429, error_code: 'too_many_requests' });
    expect(limited.body.error).toMatch(/too many sessions created or joined by this account: at most 3 a minute; retry in \d+ s/);
    const retry = Number(limited.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    // Joins count too.
    expect((await alice('POST', '/1.0/sessions/unknown/join', { body: {} })).status).toBe(429);
    // Another account on the same address: 5 a minute from here in all (alice's 3 that got through counted).
    expect((await create(bob)).status).toBe(404);
    expect((await create(bob)).status).toBe(404);
    const byAddress = await create(bob);
    expect(byAddress.status).toBe(429);
    expect(byAddress.body.error).toMatch(/by this address/);
    // Admins are not limited; reads are not limited.
    expect((await create(admin)).status).toBe(404);
    expect((await alice('GET', '/1.0/sessions')).status).toBe(200);
    expect((await admin('GET', '/1.0/sessions')).body.total_size).toBe(0);
  });

  it('refuses a page on a foreign origin on the API and the signalling socket, and serves allowed ones', async () => {
    const headers = (origin: string) => ({ origin });
    const foreign = await admin('GET', '/1.0/sessions', { headers: headers('https://evil.example') });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error).toMatch(/origin https:\/\/evil\.example is not allowed/);
    // A foreign origin's request is refused before it does anything.
    const created = await admin('POST', '/1.0/accounts', { body: { name: 'from-evil', role: 'client' }, headers: headers('https://evil.example') });
    expect(created.status).toBe(403);
    expect((await admin('GET', '/1.0/accounts')).body.metadata.map((a: { name: string }) => a.name)).not.toContain('from-evil');
    const preflight = await fetch(`${stack.url}/1.0/sessions`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(403);

    const allowed = await fetch(`${stack.url}/1.0/sessions`, { headers: { origin: 'https://good.example', authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://good.example');
    // The server's own origin (its dashboard) and scripts without an Origin header pass.
    expect((await admin('GET', '/1.0/sessions', { headers: headers(new URL(stack.url).origin) })).status).toBe(200);
    expect((await admin('GET', '/1.0/sessions')).status).toBe(200);

    const { WebSocket } = await import('ws');
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${stack.url.replace('http', 'ws')}/1.0/signaling/client?ticket=x`, { headers: { origin: 'https://evil.example' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
    expect(refused).toBe(403);
    await expect(openSignalling(`${stack.url.replace('http', 'ws')}/1.0/signaling/client?ticket=x`)).rejects.toMatchObject({ status: 401 });
  });
});
