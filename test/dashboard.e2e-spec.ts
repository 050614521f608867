import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { ADMIN_TOKEN, eventually, RunningApp, startApp } from './support/app';
import { ClientServer, launchBrowser, serveClient, TestBrowser } from './support/browser';
import { client } from './support/http';
import { testPatternManifest } from './support/packages';
import { inputLinesRect, readInputLines } from './support/pattern-text';

declare const window: any; // evaluated in the page
declare const document: any;

/*
 * The dashboard (web/) and the client SDK (libs/client-sdk) as a person uses them: real
 * Chromium on the page the gateway serves at `/`, streaming the test pattern, which prints the
 * last input it received; the tests read that text back from the decoded frames. Screenshots
 * go to test-artifacts/dashboard/ (E2E_ARTIFACTS overrides): look at them.
 */

jest.setTimeout(90_000);

const APP = 'test-pattern';
const ARTIFACTS = join(process.env.E2E_ARTIFACTS ?? join(__dirname, '..', 'test-artifacts'), 'dashboard');
const LAPTOP = { width: 1366, height: 800 };

describe('the dashboard and the client SDK in Chromium (issue 8)', () => {
  let stack: RunningApp;
  let chromium: TestBrowser;
  let admin: ReturnType<typeof client>;
  let aliceToken: string;
  const pages: { page: Page; problems: string[] }[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    [stack, chromium] = await Promise.all([startApp(), launchBrowser()]);
    admin = client(stack.url, ADMIN_TOKEN);
    await eventually(async () => (await admin('GET', '/1.0/status')).status === 200);
    expect((await admin('POST', '/ams/1.0/applications', { body: testPatternManifest(APP, { display: { width: 1280, height: 720, fps: 30 } }) })).status).toBeLessThan(300);
    aliceToken = (await admin('POST', '/1.0/accounts', { body: { name: 'alice', role: 'client' } })).body.metadata.token;
  });
  afterAll(async () => {
    await chromium?.close();
    await stack?.close();
  });
  afterEach(async () => {
    // The pages ran without a script error or a refused resource (the CSP included).
    const problems = pages.flatMap((p) => p.problems);
    await Promise.all(pages.splice(0).map((p) => p.page.context().close()));
    const live = (await admin('GET', '/1.0/sessions?status=active')).body.metadata.map((s: any) => s.id);
    if (live.length) await admin('DELETE', '/1.0/sessions?force=true', { body: { ids: live } });
    expect(problems).toEqual([]);
  });

  /** A fresh browser window (its own sessionStorage) on the dashboard. */
  async function open(path = '/', options: BrowserContextOptions = { viewport: LAPTOP }, browser: Browser = chromium.browser): Promise<Page> {
    const context = await browser.newContext(options);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      // A refused request (401 on purpose, say) logs an error too: those are the tests' own.
      if (m.type() === 'error' && !/status of (401|403|404|429)/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    pages.push({ page, problems });
    await page.goto(`${stack.url}${path}`);
    return page;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

  async function signIn(page: Page, token: string) {
    await page.fill('#token', token);
    await page.click('button[type=submit]');
    await page.waitForSelector('.tabs');
  }

  async function start(page: Page, screen = '1280 × 720') {
    await page.selectOption('select[aria-label="Screen size"]', { label: screen });
    await page.click(`button[data-app="${APP}"]`);
    return framesShowing(page);
  }

  /** Waits until the stream has presented `n` frames; its size. */
  async function framesShowing(page: Page, n = 20): Promise<{ width: number; height: number }> {
    await page.waitForFunction(
      (count) => {
        const v = document.querySelector('.stream-stage video');
        return v && v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames >= count;
      },
      n,
      { timeout: 30_000 },
    );
    return page.evaluate(() => {
      const v = document.querySelector('.stream-stage video');
      return { width: v.videoWidth, height: v.videoHeight };
    });
  }

  /** The page position of stream pixel (x, y), through the letterboxing of the moment. */
  function pagePoint(page: Page, x: number, y: number): Promise<{ x: number; y: number }> {
    return page.evaluate(
      ([sx, sy]) => {
        const v = document.querySelector('.stream-stage video');
        const r = v.getBoundingClientRect();
        const scale = Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
        const left = r.left + (r.width - v.videoWidth * scale) / 2;
        const top = r.top + (r.height - v.videoHeight * scale) / 2;
        return { x: left + (sx + 0.5) * scale, y: top + (sy + 0.5) * scale };
      },
      [x, y],
    );
  }

  /** What the test pattern says it received last, read from the next decoded frame. */
  async function lastInput(page: Page): Promise<string> {
    const size = await page.evaluate(() => {
      const v = document.querySelector('.stream-stage video');
      return { width: v.videoWidth, height: v.videoHeight };
    });
    const rect = inputLinesRect(size.width, size.height);
    const luma = await page.evaluate(async (r) => {
      const v = document.querySelector('.stream-stage video');
      await new Promise((done) => v.requestVideoFrameCallback(done));
      const canvas = document.createElement('canvas');
      canvas.width = v.videoWidth;
      canvas.height = v.videoHeight;
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      ctx.drawImage(v, 0, 0);
      const rgba = ctx.getImageData(r.x, r.y, r.width, r.height).data;
      const out = new Array(r.width * r.height);
      for (let i = 0; i < out.length; i++) out[i] = Math.round(0.299 * rgba[i * 4] + 0.587 * rgba[i * 4 + 1] + 0.114 * rgba[i * 4 + 2]);
      return out;
    }, rect);
    return readInputLines(Uint8Array.from(luma), size.width, size.height);
  }

  async function expectInput(page: Page, pattern: RegExp) {
    let seen = '';
    await eventually(async () => pattern.test((seen = await lastInput(page))), 10_000, 100).catch(async () => {
      await shot(page, 'failed-input');
      throw new Error(`the test pattern shows "INPUT ${seen}", not ${pattern}`);
    });
  }

  it('refuses a wrong token with a clear message and keeps nothing', async () => {
    const page = await open();
    await page.waitForSelector('#token');
    await shot(page, 'sign-in');
    await page.fill('#token', 'not-a-token');
    await page.click('button[type=submit]');
    await page.waitForSelector('.problem');
    expect(await page.textContent('.problem')).toMatch(/That token was not accepted.*invalid or revoked token/);
    expect(await page.evaluate(() => window.sessionStorage.length)).toBe(0);
    await shot(page, 'sign-in-wrong-token');
  });

  it('streams the test pattern: frames decode, a click and a key reach the application, the mapping survives a resize, the stats show numbers, End stops the instance', async () => {
    const page = await open();
    await signIn(page, aliceToken);
    await page.waitForSelector(`button[data-app="${APP}"]`);
    await shot(page, 'applications');
    expect(await start(page)).toEqual({ width: 1280, height: 720 });

    // A click inside the stream: the pointer moves there, then the button goes down and up.
    const centre = await pagePoint(page, 640, 400);
    await page.mouse.click(centre.x, centre.y);
    await expectInput(page, /^input::mouse-button button=1 pressed=false$/);
    let p = await pagePoint(page, 320, 500);
    await page.mouse.move(p.x, p.y);
    await expectInput(page, /^input::mouse-move x=320 y=500 rx=-320 ry=100$/);
    // Keys go by the SDK's table: H is 11.
    await page.keyboard.press('KeyH');
    await expectInput(page, /^input::key code=11 pressed=false$/);
    await shot(page, 'stream');

    // A narrow, tall window letterboxes differently: the same stream pixel is elsewhere.
    await page.setViewportSize({ width: 700, height: 800 });
    await page.waitForTimeout(200);
    p = await pagePoint(page, 960, 200);
    await page.mouse.move(p.x, p.y);
    await expectInput(page, /^input::mouse-move x=960 y=200 /);
    await page.setViewportSize(LAPTOP);

    await page.click('button:has-text("Stats")');
    await page.waitForFunction(() => /[1-9]\d*(\.\d)? fps/.test(document.querySelector('.stats')?.textContent ?? ''), undefined, { timeout: 10_000 });
    const stats = await page.textContent('.stats');
    expect(stats).toMatch(/Resolution1280 × 720/);
    expect(stats).toMatch(/Bitrate\d+\.\d\d Mbit\/s/);
    expect(stats).toMatch(/Round trip\d+(\.\d)? ms/);
    expect(stats).toMatch(/Decode\d+(\.\d+)? ms/);
    await shot(page, 'stream-stats');
    await page.click('button:has-text("Clipboard")');
    await page.waitForSelector('.clipboard textarea');
    await page.fill('.clipboard textarea', 'pasted from the dashboard');
    await page.click('button:has-text("Send to its clipboard")');
    await page.waitForSelector('.clipboard p:has-text("Sent")');
    await shot(page, 'stream-clipboard');

    const [session] = (await admin('GET', '/1.0/sessions?status=active')).body.metadata;
    expect(session.app).toBe(APP);
    await page.click('button:has-text("End session")');
    await page.waitForSelector('.tabs');
    await eventually(async () => (await admin('GET', `/1.0/sessions/${session.id}`)).body.metadata.status === 'terminated', 15_000, 200);
    await eventually(async () => (await admin('GET', `/ams/1.0/instances/${session.instance_id}`)).status === 404, 15_000, 200);
  });

  it('follows the deep link: signs in, streams at once, and leaves the token in neither the address bar nor a cookie', async () => {
    const page = await open(`/#token=${aliceToken}&app=${APP}`);
    const size = await framesShowing(page);
    // "Fit the window": the stream is the size of the stage (even numbers, within §3's limits).
    const stage = await page.evaluate(() => document.querySelector('.stream-stage').getBoundingClientRect().toJSON());
    expect(size.width).toBe(Math.floor(stage.width / 2) * 2);
    expect(size.height).toBe(Math.floor(stage.height / 2) * 2);
    expect(page.url()).toBe(`${stack.url}/`);
    expect(await page.evaluate(() => [window.sessionStorage.getItem('streamstack.token'), document.cookie, window.localStorage.length])).toEqual([aliceToken, '', 0]);
    await page.click('button:has-text("Back")');
    await page.waitForSelector('.tabs');
  });

  it('says so when the deep link names an unknown application, or when the session ends under the stream', async () => {
    const page = await open(`/#token=${aliceToken}&app=no-such-app`);
    await page.waitForSelector('.problem');
    expect(await page.textContent('.problem')).toMatch(/Not found.*no-such-app/);
    await page.click('button:has-text("Back to the dashboard")');

    await start(page);
    const [session] = (await admin('GET', '/1.0/sessions?status=active')).body.metadata;
    await admin('DELETE', `/1.0/sessions/${session.id}`);
    await page.waitForSelector('.problem', { timeout: 20_000 });
    expect(await page.textContent('.problem')).toMatch(/The session has ended/);
    await shot(page, 'stream-ended');
  });

  it('shows an admin the nodes and instances live from the events socket, and the accounts', async () => {
    const page = await open();
    await signIn(page, ADMIN_TOKEN);
    await page.click('button:has-text("Nodes & instances")');
    await page.waitForSelector('.live.live');
    await page.waitForSelector('td[data-label="Status"] .badge.good');
    expect(await page.locator('section:has(h1:has-text("Instances")) tbody tr').count()).toBe(0);
    // Launched by someone else: it appears, and goes to running, without a reload.
    const launched = await admin('POST', '/ams/1.0/instances', { body: { app: APP } });
    expect(launched.status).toBeLessThan(300);
    await page.waitForSelector('section:has(h1:has-text("Instances")) td[data-label="Status"] .badge:has-text("running")', { timeout: 20_000 });
    await shot(page, 'admin-fleet');
    await page.click('button:has-text("Accounts")');
    await page.waitForSelector('td:has-text("alice")');
    await shot(page, 'admin-accounts');
    const [instance] = (await admin('GET', '/ams/1.0/instances')).body.metadata;
    await admin('DELETE', `/ams/1.0/instances/${instance.id}?force=true`);
  });

  it('works on a phone (390×844, touch): the pages fit and a tap reaches the application', async () => {
    const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
    const page = await open('/', phone);
    await page.waitForSelector('#token');
    await shot(page, 'phone-sign-in');
    await signIn(page, ADMIN_TOKEN);
    await page.waitForSelector(`button[data-app="${APP}"]`);
    // Nothing wider than the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(page, 'phone-applications');
    await page.click('button:has-text("Sessions")');
    await page.waitForSelector('.empty, table');
    await shot(page, 'phone-sessions');
    await page.click('button:has-text("Applications")');
    await start(page, '1280 × 720');
    const p = await pagePoint(page, 100, 600);
    await page.touchscreen.tap(p.x, p.y);
    await expectInput(page, /^input::touch-end id=\d+$/);
    await shot(page, 'phone-stream');
  });

  it('lets a second SDK client join a joinable session and the first one hears that it was taken over, without taking it back', async () => {
    const start = async (page: Page, how: { app: string } | { join: string }) => {
      await page.addScriptTag({ url: '/sdk/streamstack.js' });
      return page.evaluate(async ([t, h]) => {
        const el = document.createElement('div');
        el.style.cssText = 'width:640px;height:360px';
        document.body.replaceChildren(el);
        const c = (window.sdkClient = new window.Streamstack.StreamstackClient({ token: t, element: el }));
        window.sdkEvents = [];
        for (const e of ['ready', 'error', 'closed', 'reconnecting']) c.on(e, (p: any) => window.sdkEvents.push(e === 'error' ? `error:${p.code}:${p.message}` : e));
        const session = await ('app' in h ? c.connect({ app: h.app, joinable: true, idle_time_min: 5, screen: { width: 1280, height: 720 } }) : c.join(h.join));
        return session.id;
      }, [aliceToken, how] as const);
    };
    const [a, b] = [await open(), await open()];
    const id = await start(a, { app: APP });
    expect(await start(b, { join: id })).toBe(id);
    await a.waitForFunction(() => window.sdkClient.state === 'closed', undefined, { timeout: 10_000 });
    await b.waitForTimeout(2000);
    expect(await a.evaluate(() => window.sdkEvents)).toEqual(['ready', 'error:connection-lost:another client took over this session', 'closed']);
    expect(await b.evaluate(() => [window.sdkClient.state, window.sdkEvents])).toEqual(['ready', ['ready']]);
    // The dashboard watches it beside the driver.
    const watcher = await open('/');
    await signIn(watcher, aliceToken);
    await watcher.click('button:has-text("Sessions")');
    await watcher.click(`button[data-watch="${id}"]`);
    await watcher.waitForSelector('.badge:has-text("watching")', { timeout: 15_000 });
    await framesShowing(watcher);
    await eventually(async () => (await admin('GET', `/1.0/sessions/${id}`)).body.metadata.peers.spectators === 1, 10_000, 200);
    await shot(watcher, 'watching');
    expect(await b.evaluate(() => [window.sdkClient.state, window.sdkEvents])).toEqual(['ready', ['ready']]);
    await b.evaluate(() => window.sdkClient.end());
    expect((await admin('GET', `/1.0/sessions/${id}`)).body.metadata.status).toMatch(/terminat/);
  });

  it('gives the SDK typed errors: wrong and revoked tokens, an unknown app, an ended session', async () => {
    const page = await open();
    await page.addScriptTag({ url: '/sdk/streamstack.js' });
    const bob = (await admin('POST', '/1.0/accounts', { body: { name: 'bob', role: 'client' } })).body.metadata;
    await admin('DELETE', `/1.0/accounts/${bob.id}`);
    const ended = (await client(stack.url, aliceToken)('POST', '/1.0/sessions', { body: { app: APP, joinable: true, idle_time_min: 5 } })).body.metadata;
    await admin('DELETE', `/1.0/sessions/${ended.id}`);
    await eventually(async () => (await admin('GET', `/1.0/sessions/${ended.id}`)).body.metadata.status === 'terminated', 15_000, 200);

    const outcome = (token: string, how: { app: string } | { join: string }) =>
      page.evaluate(
        async ([t, h]) => {
          const events: string[] = [];
          const c = new window.Streamstack.StreamstackClient({ token: t, element: document.body });
          c.on('error', (e: any) => events.push(`error:${e.code}`));
          c.on('closed', (e: any) => events.push(`closed:${e.reason}`));
          try {
            await ('app' in h ? c.connect({ app: h.app }) : c.join(h.join));
            return { ok: true, events };
          } catch (e: any) {
            return { name: e.name, code: e.code, status: e.status, message: e.message, events };
          }
        },
        [token, how] as const,
      );
    expect(await outcome('wrong-token', { app: APP })).toMatchObject({ name: 'StreamError', code: 'unauthorised', status: 401, events: ['error:unauthorised', 'closed:error'] });
    expect(await outcome(bob.token, { app: APP })).toMatchObject({ code: 'unauthorised', message: 'invalid or revoked token' });
    expect(await outcome(aliceToken, { app: 'no-such-app' })).toMatchObject({ code: 'not-found', status: 404 });
    expect(await outcome(aliceToken, { join: ended.id })).toMatchObject({ code: 'session-ended', events: ['error:session-ended', 'closed:ended'] });
    expect(await outcome(aliceToken, { join: 'no-such-session' })).toMatchObject({ code: 'not-found' });
    // A bad data channel name is the page's own mistake: a TypeError at once.
    expect(await page.evaluate(() => {
      try {
        new window.Streamstack.StreamstackClient({ token: 't', element: document.body, dataChannels: ['control'] });
        return 'accepted';
      } catch (e: any) {
        return e.name;
      }
    })).toBe('TypeError');
    // The SDK's types are served beside it.
    const dts = await fetch(`${stack.url}/sdk/streamstack.d.ts`).then((r) => r.text());
    expect(dts).toMatch(/export declare class StreamstackClient/);
  });
});

describe('the SDK against a gateway that limits origins and session rates', () => {
  let stack: RunningApp;
  let chromium: TestBrowser;
  let allowed: ClientServer;
  let foreign: ClientServer;
  let admin: ReturnType<typeof client>;

  beforeAll(async () => {
    [chromium, allowed, foreign] = await Promise.all([launchBrowser(), serveClient(), serveClient()]);
    stack = await startApp({ STREAMSTACK_ALLOWED_ORIGINS: allowed.url, STREAMSTACK_SESSION_RATE_PER_ACCOUNT: '3' });
    admin = client(stack.url, ADMIN_TOKEN);
    await eventually(async () => (await admin('GET', '/1.0/status')).status === 200);
    await admin('POST', '/ams/1.0/applications', { body: testPatternManifest(APP, { display: { width: 1280, height: 720, fps: 30 } }) });
  });
  afterAll(async () => {
    await chromium?.close();
    await Promise.all([allowed?.close(), foreign?.close()]);
    await stack?.close();
  });

  /**
   * A page of `server` that loads the SDK from the gateway, as the ES module the README's
   * example imports or with a classic <script> tag, and starts the test pattern.
   */
  async function streamFrom(server: ClientServer, load: 'module' | 'script') {
    const page = await chromium.browser.newPage();
    try {
      await page.goto(`${server.url}/index.html`);
      if (load === 'script') await page.addScriptTag({ url: `${stack.url}/sdk/streamstack.js` });
      return await page.evaluate(
        async ([gateway, token, app, how]) => {
          // A real dynamic import (ts-jest would turn import() into require()).
          const sdk = how === 'module' ? await new Function('u', 'return import(u)')(`${gateway}/sdk/streamstack.mjs`).catch((e: Error) => e) : window.Streamstack;
          if (sdk instanceof Error) return { importFailed: sdk.message };
          const element = document.createElement('div');
          document.body.append(element);
          const c = new sdk.StreamstackClient({ gateway, token, element });
          try {
            await c.connect({ app, screen: { width: 1280, height: 720 } });
            const result = { state: c.state, width: c.video.videoWidth };
            await c.end();
            return result;
          } catch (e: any) {
            return { code: e.code, message: e.message };
          }
        },
        [stack.url, ADMIN_TOKEN, APP, load] as const,
      );
    } finally {
      await page.close();
    }
  }

  it('streams on an allowed origin; a foreign page cannot import the SDK module, and with the script tag it creates nothing', async () => {
    expect(await streamFrom(allowed, 'module')).toEqual({ state: 'ready', width: 1280 });
    const before = (await admin('GET', '/1.0/sessions')).body.total_size;
    expect(await streamFrom(foreign, 'module')).toEqual({ importFailed: expect.stringContaining('Failed to fetch dynamically imported module') });
    expect(await streamFrom(foreign, 'script')).toMatchObject({ code: 'gateway-unavailable', message: expect.stringContaining(`does not allow pages from ${foreign.url}`) });
    expect((await admin('GET', '/1.0/sessions')).body.total_size).toBe(before);
  });

  it('reports a flood of session creations as rate-limited, with when to try again', async () => {
    const bob = (await admin('POST', '/1.0/accounts', { body: { name: 'bob', role: 'client' } })).body.metadata;
    const page = await chromium.browser.newPage();
    try {
      await page.goto(`${allowed.url}/index.html`);
      await page.addScriptTag({ url: `${stack.url}/sdk/streamstack.js` });
      const result = await page.evaluate(
        async ([gateway, token, app]) => {
          const c = new window.Streamstack.StreamstackClient({ gateway, token, element: document.body });
          for (let i = 0; i < 3; i++) await c.api.createSession({ app });
          return c.connect({ app }).then(
            () => 'connected',
            (e: any) => ({ code: e.code, status: e.status, retryAfterSeconds: e.retryAfterSeconds }),
          );
        },
        [stack.url, bob.token, APP] as const,
      );
      expect(result).toEqual({ code: 'rate-limited', status: 429, retryAfterSeconds: expect.any(Number) });
      expect((result as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(0);
    } finally {
      await page.close();
      const mine = (await admin('GET', '/1.0/sessions')).body.metadata.filter((s: any) => s.status !== 'terminated').map((s: any) => s.id);
      await admin('DELETE', '/1.0/sessions?force=true', { body: { ids: mine } });
    }
  });
});
