import { Clock } from '../src/common/clock';
import { SessionsService } from '../src/gateway/sessions/sessions.service';
import { ADMIN_TOKEN, eventually, RunningApp, startApp } from './support/app';
import { client } from './support/http';
import { testPatternManifest } from './support/packages';
import { openSignalling } from './support/signalling';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('gateway sessions (PROTOCOL.md §3) and the signalling relay (§4)', () => {
  let stack: RunningApp;
  let admin: ReturnType<typeof client>;
  let alice: ReturnType<typeof client>;
  let bob: ReturnType<typeof client>;
  let clock: Clock;
  let skew = 0;

  beforeAll(async () => {
    stack = await startApp({ STREAMSTACK_STUN_URLS: 'stun:127.0.0.1:3478', STREAMSTACK_TURN_URLS: 'turn:127.0.0.1:3478', STREAMSTACK_TURN_SECRET: 'turn-secret' });
    admin = client(stack.url, ADMIN_TOKEN);
    clock = stack.app.get(Clock);
    const realNow = clock.now.bind(clock);
    jest.spyOn(clock, 'now').mockImplementation(() => realNow() + skew);
    await eventually(async () => (await admin('GET', '/1.0/status')).status === 200);
    await admin('POST', '/ams/1.0/applications', { body: testPatternManifest('pattern') });
    await admin('POST', '/ams/1.0/applications', { body: testPatternManifest('hidden') });
    await admin('PATCH', '/ams/1.0/applications/hidden/1', { body: { published: false } });
    alice = client(stack.url, (await admin('POST', '/1.0/accounts', { body: { name: 'alice', role: 'client' } })).body.metadata.token);
    bob = client(stack.url, (await admin('POST', '/1.0/accounts', { body: { name: 'bob', role: 'client' } })).body.metadata.token);
  });
  afterAll(() => stack?.close());
  /** Sessions made inside a test end with it: every one is a real instance on a 2-core machine. */
  let made: string[] = [];
  afterEach(async () => {
    skew = 0;
    if (made.length) await admin('DELETE', '/1.0/sessions?force=true', { body: { ids: made } });
    made = [];
  });

  const create = async (body: Record<string, unknown> = {}, as = alice) => {
    const res = await as('POST', '/1.0/sessions/', { body: { app: 'pattern', screen: { width: 800, height: 600, fps: 15 }, ...body } });
    expect(res.status).toBe(201);
    made.push(res.body.metadata.id);
    return res.body.metadata;
  };
  const statusOf = async (id: string) => (await admin('GET', `/1.0/sessions/${id}`)).body.metadata.status;

  it('lists the applications that can be streamed', async () => {
    const res = await alice('GET', '/1.0/applications');
    expect(res.body.metadata).toEqual([{ name: 'pattern' }]);
  });

  it('creates a session at once with its signalling url and TURN credentials, then activates it', async () => {
    const session = await create();
    expect(session).toMatchObject({ app: 'pattern', region: 'local', status: 'created', ephemeral: true, joinable: false, screen: { width: 800, height: 600, fps: 15, density: 240 } });
    expect(session.url).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:\\d+/1\\.0/signaling/client\\?ticket=`));
    expect(session.stun_servers[0]).toEqual({ urls: ['stun:127.0.0.1:3478'], username: '', password: '' });
    expect(session.stun_servers[1].username).toMatch(new RegExp(`^\\d+:${session.id}$`));
    await eventually(async () => (await statusOf(session.id)) === 'active');
    const shown = (await alice('GET', `/1.0/sessions/${session.id}`)).body.metadata;
    expect(shown.instance_id).toBeTruthy();
    expect(shown.node).toBeTruthy();
    expect(shown).not.toHaveProperty('url');
    const instance = (await admin('GET', `/ams/1.0/instances/${shown.instance_id}`)).body.metadata;
    expect(instance).toMatchObject({ status: 'running', session_id: session.id, screen: { width: 800, height: 600, fps: 15 } });
  });

  it('keeps accounts apart: a foreign id answers 404, exactly like a missing one', async () => {
    const mine = await create();
    expect((await bob('GET', `/1.0/sessions/${mine.id}`)).status).toBe(404);
    expect((await bob('POST', `/1.0/sessions/${mine.id}/join`, { body: {} })).status).toBe(404);
    expect((await bob('DELETE', `/1.0/sessions/${mine.id}`)).status).toBe(404);
    expect((await bob('GET', '/1.0/sessions')).body.total_size).toBe(0);
    expect((await alice('GET', `/1.0/sessions/${mine.id}`)).status).toBe(200);
    expect((await admin('GET', `/1.0/sessions/${mine.id}`)).status).toBe(200);
    expect(await statusOf(mine.id)).not.toBe('terminated');
  });

  it('pages, sorts and filters the list', async () => {
    const all = (await alice('GET', '/1.0/sessions?limit=1000')).body;
    expect(all.total_size).toBeGreaterThanOrEqual(2);
    const page = await alice('GET', '/1.0/sessions?limit=1&offset=1&sort_by=created_at&sort_order=desc');
    expect(page.body.metadata).toHaveLength(1);
    expect(page.body.total_size).toBe(all.total_size);
    expect(page.body.metadata[0].id).toBe([...all.metadata].reverse()[1].id);
    const active = await alice('GET', '/1.0/sessions?status=active');
    expect(active.body.metadata.every((s: { status: string }) => s.status === 'active')).toBe(true);
    // offset=1e20 passed as an integer and reached SQLite ("datatype mismatch": a 500).
    for (const q of ['limit=0', 'limit=x', 'sort_by=colour', 'sort_order=up', 'status=happy', 'offset=-1', 'offset=99999999999999999999', 'offset=1e300', 'limit=1.5']) {
      const bad = await alice('GET', `/1.0/sessions?${q}`);
      expect(bad.status).toBe(400);
    }
    expect((await alice('GET', `/1.0/sessions?offset=${Number.MAX_SAFE_INTEGER}`)).body.metadata).toEqual([]);
  });

  it.each([
    ['an unknown app', { app: 'nope' }, 404, /application "nope" not found/],
    ['an unpublished app', { app: 'hidden' }, 400, /no published version/],
    ['a screen out of range', { screen: { width: 5000, height: 600 } }, 400, /screen\.width must not be greater than 3840/],
    ['a low density', { screen: { density: 10 } }, 400, /screen\.density/],
    ['joinable without idle time', { joinable: true }, 400, /idle_time_min > 0/],
    ['an unknown region', { region: 'mars' }, 503, /no live agent in region "mars"/],
    ['an unknown field', { colour: 'red' }, 400, /property colour should not exist/],
    ['a wrong type', { ephemeral: 'yes' }, 400, /ephemeral must be a boolean/],
  ])('refuses %s, creating nothing', async (_what, body, status, message) => {
    const before = (await admin('GET', '/1.0/sessions')).body.total_size;
    const res = await alice('POST', '/1.0/sessions', { body: { app: 'pattern', ...body } });
    expect(res.status).toBe(status);
    expect(res.body.error).toMatch(message);
    expect((await admin('GET', '/1.0/sessions')).body.total_size).toBe(before);
  });

  it('ends a session on DELETE, deleting its instance and its processes', async () => {
    const session = await create();
    await eventually(async () => (await statusOf(session.id)) === 'active');
    const { instance_id } = (await admin('GET', `/1.0/sessions/${session.id}`)).body.metadata;
    const res = await alice('DELETE', `/1.0/sessions/${session.id}`);
    expect(res.status).toBe(200);
    expect(res.body.metadata.status).toBe('terminated');
    await eventually(async () => (await admin('GET', `/ams/1.0/instances/${instance_id}`)).status === 404);
  });

  it('ends several sessions at once, answering 207 when some are unknown', async () => {
    const a = await create();
    const res = await alice('DELETE', '/1.0/sessions', { body: { ids: [a.id, 'nope'] } });
    expect(res.status).toBe(207);
    expect(res.body.metadata).toEqual([
      { id: a.id, status_code: 200 },
      { id: 'nope', status_code: 404, error: 'session "nope" not found' },
    ]);
    expect((await alice('DELETE', '/1.0/sessions', { body: { ids: [] } })).status).toBe(400);
  });

  describe('join', () => {
    it('refuses a session that is not joinable', async () => {
      const session = await create();
      const res = await alice('POST', `/1.0/sessions/${session.id}/join`, { body: {} });
      expect(res.status).toBe(409);
      expect(res.body.error).toContain('not joinable');
    });

    it("gives a new url and ends the previous client's signalling", async () => {
      const session = await create({ joinable: true, idle_time_min: 5 });
      const first = await openSignalling(session.url);
      const joined = await alice('POST', `/1.0/sessions/${session.id}/join`, { body: { screen: { width: 1280, height: 720 } } });
      expect(joined.status).toBe(200);
      expect(Object.keys(joined.body.metadata).sort()).toEqual(['id', 'stun_servers', 'url']);
      expect((await first.closed).code).toBe(4001);
      await expect(openSignalling(session.url)).rejects.toMatchObject({ status: 403 });
      const second = await openSignalling(joined.body.metadata.url);
      second.ws.close();
    });
  });

  describe('signalling sockets: authorised on upgrade, every message checked', () => {
    let session: any;
    beforeAll(async () => {
      session = (await alice('POST', '/1.0/sessions', { body: { app: 'pattern', ephemeral: false, screen: { width: 800, height: 600 } } })).body.metadata;
    });
    afterAll(() => alice('DELETE', `/1.0/sessions/${session.id}`));

    it.each([
      ['no ticket', (url: string) => url.replace(/\?ticket=.*/, ''), 401],
      ['a forged ticket', (url: string) => `${url.slice(0, -4)}AAAA`, 401],
      ['a ticket changed to another session', (url: string) => {
        const [base, ticket] = url.split('?ticket=');
        const [body, sig] = ticket.split('.');
        const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
        claims.s = 'someotherid';
        return `${base}?ticket=${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
      }, 401],
      ['an unknown path', (url: string) => url.replace('/client', '/nobody'), 404],
    ])('refuses %s before the socket exists', async (_what, mangle, status) => {
      await expect(openSignalling(mangle(session.url))).rejects.toMatchObject({ status });
    });

    it('refuses an expired ticket', async () => {
      const fresh = await create({ ephemeral: false });
      skew = 120_000;
      await expect(openSignalling(fresh.url)).rejects.toMatchObject({ status: 401, body: expect.stringContaining('expired') });
    });

    it('opens one socket per ticket', async () => {
      const first = await openSignalling(session.url);
      await expect(openSignalling(session.url)).rejects.toMatchObject({ status: 409 });
      first.ws.close();
    });

    it('answers malformed and out-of-order messages with errors, then closes on abuse', async () => {
      const joinable = await create({ joinable: true, idle_time_min: 5 });
      const s = await openSignalling(joinable.url);
      const cases: [unknown, RegExp][] = [
        ['{not json', /not valid JSON/],
        [{ kind: 'discover' }, /string "type"/],
        [{ type: 'answer', sdp: b64('v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n') }, /before discover/],
        [{ type: 'telepathy' }, /unknown message type "telepathy"/],
      ];
      for (const [message, error] of cases) {
        s.send(message);
        expect((await s.next('error')).message).toMatch(error);
      }
      s.send({ type: 'candidate', candidate: '!!!', sdpMid: '0', sdpMLineIndex: 0 });
      expect((await s.closed).code).toBe(1008);
    });

    it('refuses bad base64, SDP that is not SDP and candidates before any offer', async () => {
      const joinable = await create({ joinable: true, idle_time_min: 5 });
      const s = await openSignalling(joinable.url);
      s.send({ type: 'discover' });
      const cases: [unknown, RegExp][] = [
        [{ type: 'candidate', candidate: b64('candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host'), sdpMid: '0', sdpMLineIndex: 0 }, /candidate before any offer/],
        [{ type: 'answer', sdp: 'not base64 at all!' }, /not valid base64/],
        [{ type: 'answer', sdp: b64('hello, I am not SDP') }, /does not hold an SDP description|answer before any offer/],
        [{ type: 'settings', enable_video: 'yes' }, /enable_video must be a boolean/],
      ];
      for (const [message, error] of cases) {
        s.send(message);
        expect((await s.next('error')).message).toMatch(error);
      }
      s.ws.close();
    });

    it('closes a socket that sends a frame over 64 KiB with 1009', async () => {
      const joinable = await create({ joinable: true, idle_time_min: 5 });
      const s = await openSignalling(joinable.url);
      s.send({ type: 'discover', padding: 'x'.repeat(70 * 1024) });
      expect((await s.closed).code).toBe(1009);
    });
  });

  describe('the instance-side socket', () => {
    it('carries client messages to an external instance peer and checks what it sends back', async () => {
      const session = await create({ ephemeral: false });
      expect((await alice('POST', `/1.0/sessions/${session.id}/instance-signaling`, { body: {} })).status).toBe(403);
      const { url } = (await admin('POST', `/1.0/sessions/${session.id}/instance-signaling`, { body: {} })).body.metadata;
      expect(url).toMatch(/\/1\.0\/signaling\/instance\?ticket=/);
      await expect(openSignalling(session.url.replace('/client?', '/instance?'))).rejects.toMatchObject({ status: 403 });
      const instance = await openSignalling(url);
      await expect(openSignalling(url)).rejects.toMatchObject({ status: 409 });
      await eventually(async () => (await statusOf(session.id)) === 'active');
      const peer = await openSignalling(session.url);
      const discover = instance.next('discover');
      peer.send({ type: 'discover' });
      expect(await discover).toEqual({ type: 'discover' });
      instance.send({ type: 'offer', sdp: b64('v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n') });
      expect((await instance.next('error')).message).toMatch(/offer before the client's settings/);
      instance.send({ type: 'resp:discover', max_api_version: 'two' });
      expect((await instance.next('error')).message).toMatch(/max_api_version must be an integer/);
      expect(peer.messages.filter((m) => m.type === 'offer' || m.type === 'error')).toEqual([]);
      peer.ws.close();
      instance.ws.close();
    });
  });

  describe('lifecycle rules, on a fake clock', () => {
    const sessions = () => stack.app.get(SessionsService);

    it('ends an ephemeral session once its client has been gone for the grace period', async () => {
      const session = await create({ ephemeral: true });
      const { clientGeneration } = (await sessions().forSignalling(session.id))!;
      await sessions().onClientState({ session_id: session.id, generation: clientGeneration, state: 'connected' });
      await sessions().onClientState({ session_id: session.id, generation: clientGeneration, state: 'disconnected' });
      expect(await sessions().reap()).not.toContain(session.id);
      skew = 11_000;
      expect(await sessions().reap()).toContain(session.id);
      expect((await alice('GET', `/1.0/sessions/${session.id}`)).body.metadata).toMatchObject({ status: 'terminated', status_message: 'its client disconnected' });
    });

    it('keeps an ephemeral session whose client is connected, and ignores an older client leaving', async () => {
      const session = await create({ ephemeral: true, joinable: true, idle_time_min: 1 });
      await alice('POST', `/1.0/sessions/${session.id}/join`, { body: {} });
      const { clientGeneration } = (await sessions().forSignalling(session.id))!;
      await sessions().onClientState({ session_id: session.id, generation: clientGeneration, state: 'connected' });
      await sessions().onClientState({ session_id: session.id, generation: clientGeneration - 1, state: 'disconnected' });
      skew = 10 * 60_000;
      expect(await sessions().reap()).not.toContain(session.id);
      expect(await statusOf(session.id)).not.toBe('terminated');
    });

    it("records why a client's peer connection failed in status_message, and ends an ephemeral session after the grace", async () => {
      const session = await create({ ephemeral: true });
      const { clientGeneration } = (await sessions().forSignalling(session.id))!;
      await sessions().onClientState({ session_id: session.id, generation: clientGeneration, state: 'failed', reason: 'not connected within 30000 ms' });
      const shown = (await alice('GET', `/1.0/sessions/${session.id}`)).body.metadata;
      expect(shown.status_message).toBe("the client's peer connection failed: not connected within 30000 ms");
      expect(shown.status).not.toBe('terminated');
      skew = 11_000;
      expect(await sessions().reap()).toContain(session.id);
    });

    it("keeps saying its instance is restarting whatever its client's peer reports meanwhile", async () => {
      const session = await create({ ephemeral: false, joinable: true, idle_time_min: 5 });
      await eventually(async () => (await statusOf(session.id)) === 'active');
      const { clientGeneration, instanceId } = (await sessions().forSignalling(session.id))!;
      const restarted = { id: instanceId!, app: session.app, node: null, status: 'created' as const, status_message: 'node n restarted', session_id: session.id, timestamp: new Date().toISOString() };
      await sessions().onInstanceStatus(restarted);
      for (const state of ['failed', 'connected', 'disconnected'] as const) {
        await sessions().onClientState({ session_id: session.id, generation: clientGeneration, state, reason: 'the instance went away' });
        expect((await alice('GET', `/1.0/sessions/${session.id}`)).body.metadata).toMatchObject({
          status: 'active',
          status_message: 'its instance is restarting: node n restarted',
          instance_restarting: true,
        });
      }
    });

    it('ends a session nobody joined for idle_time_min', async () => {
      const session = await create({ ephemeral: false, joinable: true, idle_time_min: 2 });
      skew = 60_000;
      expect(await sessions().reap()).not.toContain(session.id);
      skew = 121_000;
      expect(await sessions().reap()).toContain(session.id);
      expect((await admin('GET', `/1.0/sessions/${session.id}`)).body.metadata.status_message).toBe('nobody joined it for 2 min');
    });
  });
});
