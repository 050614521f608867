import { ADMIN_TOKEN, eventually, RunningApp, startApp } from './support/app';
import { ClientServer, connect, launchBrowser, openPage, serveClient, stats, TestBrowser, waitFirstFrame } from './support/browser';
import { Coturn, startCoturn } from './support/coturn';
import { client } from './support/http';
import { testPatternManifest } from './support/packages';

declare const window: any; // evaluated in the page
declare const document: any;

jest.setTimeout(60_000);

/** A browser that may only use TURN reaches the instance through a real coturn. */
describe('streaming through coturn (TURN REST credentials)', () => {
  let coturn: Coturn;
  let stack: RunningApp;
  let chromium: TestBrowser;
  let server: ClientServer;

  beforeAll(async () => {
    coturn = await startCoturn();
    [stack, chromium, server] = await Promise.all([
      startApp({
        STREAMSTACK_TURN_URLS: coturn.url,
        STREAMSTACK_TURN_SECRET: coturn.secret,
        // coturn relays to loopback peers only: the streamer's candidates must be 127.0.0.1.
        STREAMSTACK_ICE_BIND_ADDRESS: '127.0.0.1',
      }),
      launchBrowser(),
      serveClient(),
    ]);
    const admin = client(stack.url, ADMIN_TOKEN);
    await eventually(async () => (await admin('GET', '/1.0/status')).status === 200);
    await admin('POST', '/ams/1.0/applications', { body: testPatternManifest('pattern', { display: { width: 1280, height: 720, fps: 30 } }) });
  });
  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    await stack?.close();
    await coturn?.stop();
  });

  it('hands out TURN credentials coturn accepts, and the stream flows over a relay candidate', async () => {
    const admin = client(stack.url, ADMIN_TOKEN);
    const res = await admin('POST', '/1.0/sessions', { body: { app: 'pattern' } });
    expect(res.status).toBe(201);
    const session = res.body.metadata;
    const turn = session.stun_servers.find((s: { urls: string[] }) => s.urls.some((u) => u.startsWith('turn:')));
    expect(turn).toMatchObject({ urls: [coturn.url], username: expect.stringMatching(/^\d+:/), password: expect.any(String) });

    const p = await openPage(chromium.browser, server);
    try {
      await connect(p.page, session, { iceTransportPolicy: 'relay' });
      await waitFirstFrame(p.page, 30_000);
      const st = await stats(p.page);
      expect(st.pair.local.candidateType).toBe('relay');
      expect(st.video.framesDecoded).toBeGreaterThan(0);
      expect(coturn.log()).toMatch(/ALLOCATE/i);
    } finally {
      await p.close();
      await admin('DELETE', `/1.0/sessions/${session.id}?force=true`);
    }
  });

  it('is refused by coturn with credentials it did not sign', async () => {
    const admin = client(stack.url, ADMIN_TOKEN);
    const res = await admin('POST', '/1.0/sessions', { body: { app: 'pattern' } });
    const session = res.body.metadata;
    const forged = session.stun_servers.map((s: { urls: string[]; username?: string; password?: string }) =>
      s.password ? { ...s, password: 'not-the-secret-signature' } : s,
    );
    const p = await openPage(chromium.browser, server);
    try {
      await connect(p.page, { ...session, stun_servers: forged }, { iceTransportPolicy: 'relay' });
      // Its own user, with a signature coturn cannot verify: refused (not only the first, anonymous challenge).
      const user = forged.find((x: { password?: string }) => x.password).username;
      await eventually(async () => coturn.log().includes(`user <${user}>: incoming packet message processed, error 401`), 15_000);
      const st = await stats(p.page);
      expect(st.video?.framesDecoded ?? 0).toBe(0);
    } finally {
      await p.close();
      await admin('DELETE', `/1.0/sessions/${session.id}?force=true`);
    }
  });

  it('the SDK joins its joinable session again, once, when its relay dies under it', async () => {
    const alice = (await client(stack.url, ADMIN_TOKEN)('POST', '/1.0/accounts', { body: { name: 'relay-user', role: 'client' } })).body.metadata;
    const page = await chromium.browser.newPage();
    try {
      await page.goto(stack.url);
      await page.addScriptTag({ url: '/sdk/streamstack.js' });
      await page.evaluate(async (token) => {
        const element = document.createElement('div');
        document.body.replaceChildren(element);
        const c = (window.sdk = new window.Streamstack.StreamstackClient({ token, element, iceTransportPolicy: 'relay', statsIntervalMs: 500 }));
        window.events = [];
        for (const e of ['ready', 'reconnecting', 'error', 'closed']) c.on(e, (p: any) => window.events.push(e === 'reconnecting' ? `reconnecting:${p.error.code}` : e));
        await c.connect({ app: 'pattern', joinable: true, idle_time_min: 5 });
      }, alice.token);
      const path = () => page.evaluate(() => window.sdk.stats?.candidateType);
      await eventually(async () => (await path()) === 'relay', 10_000, 200);

      // The TURN server dies and comes back empty on the same port: the old relay is gone.
      await coturn.stop();
      coturn = await startCoturn({ port: coturn.port });
      await page.waitForFunction(() => window.events.filter((e: string) => e === 'ready').length === 2, undefined, { timeout: 40_000 });
      expect(await page.evaluate(() => [window.sdk.state, window.events])).toEqual(['ready', ['ready', 'reconnecting:connection-lost', 'ready']]);
      // Frames flow again, through the new coturn.
      const decoded = () => page.evaluate(() => window.sdk.stats?.framesDecoded ?? 0);
      const before = await decoded();
      await eventually(async () => (await decoded()) > before + 10, 10_000, 250);
      expect(coturn.log()).toMatch(/ALLOCATE/i);
      await page.evaluate(() => window.sdk.end());
    } finally {
      await page.close();
    }
  });
});
