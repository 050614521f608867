import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_TOKEN, eventually, logCollector, RunningApp, startApp } from './support/app';
import { client } from './support/http';

describe('HTTP surface: auth, accounts, envelope, status, metrics, docs', () => {
  let stack: RunningApp;
  let admin: ReturnType<typeof client>;
  let anon: ReturnType<typeof client>;
  const logs = logCollector();

  beforeAll(async () => {
    stack = await startApp({ STREAMSTACK_LOG_LEVEL: 'info' }, { logSink: logs.sink });
    admin = client(stack.url, ADMIN_TOKEN);
    anon = client(stack.url);
  });
  afterAll(() => stack?.close());

  describe('status', () => {
    it('answers without auth, healthy once the agent registered', async () => {
      const res = await eventually(async () => {
        const r = await anon('GET', '/1.0/status');
        return r.status === 200 ? r : null;
      });
      expect(res.body).toMatchObject({ type: 'sync', status: 'success', status_code: 200 });
      expect(res.body.metadata).toMatchObject({ status: 'healthy', agents: 1, roles: ['gateway', 'agent', 'ams', 'node'] });
    });

    it('lists the agent\'s region', async () => {
      const res = await admin('GET', '/1.0/regions');
      expect(res.body.metadata).toEqual([{ name: 'local' }]);
      expect(res.body.total_size).toBe(1);
    });
  });

  describe('authentication (PROTOCOL.md §2)', () => {
    it.each([
      ['Bearer', { authorization: `Bearer ${ADMIN_TOKEN}` }],
      ['Macaroon', { authorization: `Macaroon root=${ADMIN_TOKEN}` }],
      ['lower-case macaroon', { authorization: `macaroon root=${ADMIN_TOKEN}` }],
    ])('accepts the %s header', async (_name, headers) => {
      const res = await anon('GET', '/ams/1.0/nodes', { headers });
      expect(res.status).toBe(200);
    });

    it('accepts api_token and never logs it', async () => {
      const res = await anon('GET', `/ams/1.0/nodes?api_token=${ADMIN_TOKEN}`);
      expect(res.status).toBe(200);
      await eventually(async () => logs.lines.some((l) => l.includes('/ams/1.0/nodes?api_token=[redacted]')));
      expect(logs.lines.join('\n')).not.toContain(ADMIN_TOKEN);
    });

    it('answers 401 without or with a wrong token, in the envelope', async () => {
      for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: 'Basic YTpi' }] as Record<string, string>[]) {
        const res = await anon('GET', '/ams/1.0/nodes', { headers });
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({ type: 'error', status: 'failed', status_code: 401 });
        expect(res.body.error).toMatch(/credentials|token/);
      }
    });

    it('answers 403 to a client token on admin routes', async () => {
      const created = await admin('POST', '/1.0/accounts', { body: { name: 'some-client', role: 'client' } });
      const asClient = client(stack.url, created.body.metadata.token);
      const res = await asClient('GET', '/ams/1.0/applications');
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('this route needs an admin account');
      expect((await asClient('GET', '/1.0/regions')).status).toBe(200);
    });
  });

  describe('accounts', () => {
    it('creates an account with a token shown once, lists it without secrets, revokes it', async () => {
      const created = await admin('POST', '/1.0/accounts/', { body: { name: 'frontend', role: 'client' } });
      expect(created.status).toBe(201);
      expect(created.body.metadata).toMatchObject({ name: 'frontend', role: 'client' });
      const token: string = created.body.metadata.token;
      expect(Buffer.from(token, 'base64url').length).toBeGreaterThanOrEqual(16);

      const list = await admin('GET', '/1.0/accounts');
      const listed = list.body.metadata.find((a: { name: string }) => a.name === 'frontend');
      expect(listed).toEqual({ id: created.body.metadata.id, name: 'frontend', role: 'client', created_at: expect.any(String) });
      expect(JSON.stringify(list.body)).not.toContain(token);

      expect((await client(stack.url, token)('GET', '/1.0/regions')).status).toBe(200);
      expect((await admin('DELETE', '/1.0/accounts/frontend')).status).toBe(200);
      expect((await client(stack.url, token)('GET', '/1.0/regions')).status).toBe(401);
    });

    it('refuses duplicates, bad roles, unknown fields and unknown ids, changing nothing', async () => {
      const before = (await admin('GET', '/1.0/accounts')).body.metadata.length;
      await admin('POST', '/1.0/accounts', { body: { name: 'dup', role: 'client' } });
      const dup = await admin('POST', '/1.0/accounts', { body: { name: 'dup', role: 'admin' } });
      expect(dup.status).toBe(409);
      expect(dup.body.error).toContain('exists already');
      const bad = await admin('POST', '/1.0/accounts', { body: { name: 'x', role: 'root', extra: 1 } });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toContain('role must be one of the following values');
      expect(bad.body.error).toContain('property extra should not exist');
      expect((await admin('DELETE', '/1.0/accounts/nobody')).status).toBe(404);
      expect((await admin('GET', '/1.0/accounts')).body.metadata.length).toBe(before + 1);
    });
  });

  describe('envelope for bad requests', () => {
    it('answers unknown routes with a 404 envelope', async () => {
      const res = await admin('GET', '/1.0/nothing-here');
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ type: 'error', status: 'failed', status_code: 404, error: 'no route GET /1.0/nothing-here', error_code: 'not_found' });
    });

    it('answers malformed JSON with a 400 envelope', async () => {
      const res = await admin('POST', '/1.0/accounts', { raw: '{"name": "x",', contentType: 'application/json' });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(/^malformed JSON body/);
    });

    it.each([
      ['/1.0/accounts', '{"name":"x","role":"client","extra":{"constructor":1}}'],
      ['/1.0/sessions', '{"app":"nope","screen":{"constructor":"x"}}'],
      ['/ams/1.0/applications', '{"name":"x","kind":"test-pattern","data_channels":[{"constructor":1}]}'],
      ['/ams/1.0/applications', '{"name":"x","kind":"test-pattern","__proto__":{"admin":true}}'],
    ])('answers a JSON body with a constructor/__proto__ key with 400 and changes nothing (POST %s)', async (path, raw) => {
      // "constructor" crashed class-transformer ("targetType is not a constructor"): a 500.
      const before = (await admin('GET', '/1.0/accounts')).body.metadata.length;
      const res = await admin('POST', path, { raw, contentType: 'application/json' });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(/^malformed JSON body: the key "(constructor|__proto__)" is not allowed/);
      expect((await admin('GET', '/1.0/accounts')).body.metadata.length).toBe(before);
      expect((await admin('GET', '/ams/1.0/applications/x')).status).toBe(404);
    });

    it('answers wrong types naming the field', async () => {
      const res = await admin('POST', '/1.0/accounts', { body: { name: 42, role: 'client' } });
      expect(res.status).toBe(400);
      expect(res.body.error).toContain('name must be a string');
    });

    it('answers an oversized JSON body with 413', async () => {
      const res = await admin('POST', '/1.0/accounts', { raw: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }), contentType: 'application/json' });
      expect(res.status).toBe(413);
      expect(res.body.type).toBe('error');
    });

    it('answers CORS preflights from any origin by default', async () => {
      const res = await fetch(`${stack.url}/1.0/sessions`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
      expect(res.status).toBeLessThan(300);
      expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(res.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    });
  });

  describe('metrics and API docs', () => {
    it('serves Prometheus text without auth', async () => {
      const res = await fetch(`${stack.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await res.text();
      expect(text).toMatch(/streamstack_http_requests_total\{method="GET",route="\/ams\/1.0\/nodes",status="200"\} \d+/);
      expect(text).toContain('streamstack_process_resident_memory_bytes');
    });

    it('serves Swagger UI and a document equal to the checked-in docs/openapi.json', async () => {
      expect((await fetch(`${stack.url}/docs`)).status).toBe(200);
      const served = (await (await fetch(`${stack.url}/docs-json`)).json()) as { paths: Record<string, unknown> };
      const checkedIn = JSON.parse(readFileSync(join(__dirname, '..', 'docs', 'openapi.json'), 'utf8')) as object;
      expect(served).toEqual(checkedIn);
      for (const path of ['/ams/1.0/applications', '/ams/1.0/instances/{id}/logs', '/ams/1.0/nodes/{name}', '/ams/1.0/operations/{id}/wait', '/1.0/accounts', '/1.0/status']) {
        expect(Object.keys(served.paths)).toContain(path);
      }
    });
  });
});
