import { readFile } from 'node:fs/promises';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

declare const window: any; // evaluated in the page

/** Debian's Chromium; never a downloaded one. Override with CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
  // Several client pages run at once (join): none may be throttled as a background tab.
  '--disable-renderer-backgrounding',
  '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
];

export interface TestBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/** Real headless Chromium; launch() gives it a fresh temporary profile, removed on close. */
export async function launchBrowser(extraArgs: string[] = []): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    // playwright-core adds its own --headless; ours is there for anyone copying the flags.
    headless: true,
    timeout: 30_000,
  });
  return {
    browser,
    close: () => browser.close().catch(() => undefined),
  };
}

const CLIENT_DIR = join(__dirname, '..', 'client');
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

export interface ClientServer {
  /** `http://127.0.0.1:PORT` serving test/client/. */
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** A tiny static server for test/client/ on loopback, so that the page has an http origin. */
export async function serveClient(): Promise<ClientServer> {
  const server = createServer((req, res) => {
    void (async () => {
      const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
      const file = join(CLIENT_DIR, path === '/' ? 'index.html' : path);
      if (!file.startsWith(CLIENT_DIR) || !TYPES[extname(file)]) {
        res.writeHead(404).end();
        return;
      }
      try {
        const body = await readFile(file);
        res.writeHead(200, { 'content-type': TYPES[extname(file)], 'cache-control': 'no-store' }).end(body);
      } catch {
        res.writeHead(404).end();
      }
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export interface ClientPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and page errors, for failure messages. */
  console: string[];
  close(): Promise<void>;
}

/**
 * Opens a page of the test client (index.html, or `path`) in its own browser context, so
 * that several clients run side by side like separate browser windows.
 */
export async function openPage(browser: Browser, server: ClientServer, path = '/index.html'): Promise<ClientPage> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const lines: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning' || process.env.E2E_BROWSER_LOG) lines.push(`${m.type()}: ${m.text()}`);
    if (process.env.E2E_BROWSER_LOG) console.log(`[page ${path}] ${m.text()}`);
  });
  page.on('pageerror', (e) => lines.push(`pageerror: ${e.message}`));
  await page.goto(`${server.url}${path}`);
  return {
    page,
    context,
    console: lines,
    close: () => context.close().catch(() => undefined),
  };
}

/** What POST /1.0/sessions and join answer, as far as the client is concerned. */
export interface SignallingInfo {
  url: string;
  stun_servers: { urls: string[]; username: string; password: string }[];
}

export interface ConnectOptions {
  data_channels?: string[];
  enable_video?: boolean;
  enable_speaker?: boolean;
  preferred_decoder_codecs?: string[];
  /** RTCRtpReceiver.jitterBufferTarget in ms (unset: the browser's default, as the SDK leaves it). */
  jitterBufferTarget?: number;
  /** Apply the offer without its `a=extmap` lines: the answer accepts no header extension (a baseline). */
  withoutHeaderExtensions?: boolean;
  /** `relay`: gather and use TURN candidates only. */
  iceTransportPolicy?: 'all' | 'relay';
}

/** Starts the page's client on a session (non-blocking: the page does the rest itself). */
export async function connect(page: Page, session: SignallingInfo, options: ConnectOptions = {}): Promise<void> {
  await page.evaluate(
    ([s, o]) => {
      window.streamstack.connect({ url: s.url, stun_servers: s.stun_servers }, o);
    },
    [{ url: session.url, stun_servers: session.stun_servers }, options] as const,
  );
}

/**
 * The page asks the gateway itself (`POST path` with a client's `token`) and connects the
 * moment the answer has a session: what a user's page does, with no test-driver hop between the
 * answer and connect(). `requested` / `answered`: wall clock (epoch ms) in the page.
 */
export function requestAndConnect(
  page: Page,
  gateway: { url: string; token: string },
  path: string,
  body: unknown,
  options: ConnectOptions = {},
): Promise<{ status: number; body: any; requested: number; answered: number }> {
  return page.evaluate(([g, p, b, o]) => window.streamstack.requestAndConnect(g.url, g.token, p, b, o), [gateway, path, body, options] as const);
}

/** The client's state: steps (performance clock), wall (epoch ms), errors, states, messages. */
export function snapshot(page: Page): Promise<any> {
  return page.evaluate(() => window.streamstack.client.snapshot());
}

/** The client's getStats() summary: video/audio inbound-rtp, selected candidate pair. */
export function stats(page: Page): Promise<any> {
  return page.evaluate(() => window.streamstack.client.stats());
}

/** Awaits the client's first presented frame; rejects with its errors and states if none comes. */
export async function waitFirstFrame(page: Page, timeoutMs = 15_000): Promise<number> {
  try {
    return await page.evaluate(
      (ms) =>
        Promise.race([
          window.streamstack.client.firstFrame,
          new Promise((_r, rej) => setTimeout(() => rej(new Error(`no frame within ${ms} ms`)), ms)),
        ]),
      timeoutMs,
    );
  } catch (e) {
    const s = await snapshot(page).catch(() => null);
    throw new Error(
      `${(e as Error).message}\nclient: ${JSON.stringify(
        s && { steps: s.steps, errors: s.errors, ice: s.iceStates, pc: s.connectionStates, ws: s.wsClose, tracks: s.tracks, counters: s.counters, received: s.received?.map((m: any) => m.type) },
      )}`,
    );
  }
}

/** The luma (one byte a pixel) of a rectangle of the next presented frame. */
export async function grabFrame(page: Page, rect?: { x: number; y: number; width: number; height: number }) {
  const r = await page.evaluate((rc) => window.streamstack.client.grabFrame(rc), rect);
  return { ...r, luma: new Uint8Array(Buffer.from(r.luma, 'base64')) } as {
    width: number;
    height: number;
    rect: { x: number; y: number; width: number; height: number };
    luma: Uint8Array;
    strip: number | null;
    meta: any;
  };
}

/** Polls the page's stats until `check` holds, or throws with the last stats seen. */
export async function waitForStats(page: Page, check: (s: any) => boolean, timeoutMs = 10_000, everyMs = 200): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any = null;
  for (;;) {
    last = await stats(page);
    if (check(last)) return last;
    if (Date.now() > deadline) throw new Error(`stats condition not met within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Mean absolute difference of two equally sized luma buffers. */
export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`sizes differ: ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}
