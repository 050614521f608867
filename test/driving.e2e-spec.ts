/**
 * Driving a real application from Chromium through the SDK (issue 10): a sandboxed x11
 * application that echoes its data channel with socat, the clipboard both ways, the display
 * resized from the page, and spectators beside the driver. The whole stack in this process.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSample } from '../src/cli/remote/app.command';
import type { Page } from 'playwright-core';
import { NodeRuntime } from '../src/node/runtime/node-runtime.service';
import { findOnPath } from '../src/node/supervisor/executables';
import { ADMIN_TOKEN, eventually, RunningApp, startApp } from './support/app';
import { launchBrowser, TestBrowser } from './support/browser';
import { client } from './support/http';

declare const window: any; // evaluated in the page
declare const document: any;

jest.setTimeout(90_000);

const tools = ['Xvfb', 'xdotool', 'xclip', 'xterm', 'socat', 'bwrap', 'xev'].every((t) => findOnPath(t));
const ARTIFACTS = join(__dirname, '..', 'test-artifacts', 'driving');

/** The application: xev shows a window; socat joins the `echo` channel to cat, reconnecting until the channel is open. */
const ECHO_APP = {
  name: 'socat-echo',
  kind: 'x11',
  command: 'while :; do socat UNIX-CONNECT:"$STREAMSTACK_DATA_CHANNELS/echo" EXEC:cat 2>/dev/null; sleep 0.1; done & exec xev -geometry 400x300+0+0',
  display: { width: 640, height: 480, fps: 30 },
};

(tools ? describe : describe.skip)('driving an x11 application from Chromium (SDK)', () => {
  let stack: RunningApp;
  let chromium: TestBrowser;
  let token: string;
  const pages: Page[] = [];

  beforeAll(async () => {
    [stack, chromium] = await Promise.all([startApp({ STREAMSTACK_SESSION_MAX_SPECTATORS: '1' }), launchBrowser()]);
    const admin = client(stack.url, ADMIN_TOKEN);
    expect((await admin('POST', '/ams/1.0/applications', { body: ECHO_APP })).status).toBe(201);
    token = (await admin('POST', '/1.0/accounts', { body: { name: 'driver', role: 'client' } })).body.metadata.token;
  });
  afterAll(async () => {
    for (const p of pages) await p.close().catch(() => undefined);
    await chromium?.close();
    await stack?.close();
  });

  /** A page with the SDK loaded, its events collected in window.events. */
  async function sdkPage(): Promise<Page> {
    const page = await chromium.browser.newPage({ viewport: { width: 800, height: 600 } });
    pages.push(page);
    await page.goto(stack.url);
    await page.addScriptTag({ url: '/sdk/streamstack.js' });
    await page.evaluate((t) => {
      const element = document.createElement('div');
      element.style.cssText = 'width: 800px; height: 600px';
      document.body.replaceChildren(element);
      window.received = [];
      window.receivedText = () => window.received.map((m: any) => (typeof m === 'string' ? m : new TextDecoder().decode(m))).join('');
      window.events = [];
      const c = (window.sdk = new window.Streamstack.StreamstackClient({ token: t, element, dataChannels: ['echo'], speaker: false }));
      c.on('channel-message', (m: any) => window.received.push(typeof m.data === 'string' ? m.data : new Uint8Array(m.data)));
      for (const e of ['role', 'clipboard', 'message', 'error', 'closed']) c.on(e, (p: any) => window.events.push({ e, p }));
    }, token);
    return page;
  }

  const displayOf = (sessionId: string): string => {
    const runtime = stack.app.get(NodeRuntime) as unknown as { instances: Map<string, { sessionId: string; source: { media: { display: string } } }> };
    return [...runtime.instances.values()].find((i) => i.sessionId === sessionId)!.source.media.display;
  };

  it('echoes text and a 60 KiB binary message through the application, carries the clipboard both ways, resizes the display, and lets a spectator watch', async () => {
    const driver = await sdkPage();
    const session = await driver.evaluate(async () => (await window.sdk.connect({ app: 'socat-echo' })).id);
    await driver.waitForFunction(() => window.events.some((x: any) => x.e === 'role'));
    expect(await driver.evaluate(() => window.sdk.role)).toBe('driver');

    // Data channel: the application's socat sends back what it reads.
    await driver.waitForFunction(() => window.sdk.send('echo', 'hello application'), undefined, { timeout: 20_000, polling: 200 });
    await driver.waitForFunction(() => window.receivedText().includes('hello application'), undefined, { timeout: 10_000 });
    const echoed = await driver.evaluate(async () => {
      const bytes = new Uint8Array(60 * 1024).map((_, i) => (i * 31) & 0xff);
      window.received = [];
      window.sdk.send('echo', bytes);
      const deadline = Date.now() + 10_000;
      const total = () => window.received.reduce((n: number, m: any) => n + (typeof m === 'string' ? new TextEncoder().encode(m).length : m.length), 0);
      while (total() < bytes.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const all = new Uint8Array(total());
      let at = 0;
      for (const m of window.received) {
        const part = typeof m === 'string' ? new TextEncoder().encode(m) : m;
        all.set(part, at);
        at += part.length;
      }
      return { length: all.length, same: all.length === bytes.length && all.every((b: number, i: number) => b === bytes[i]) };
    });
    expect(echoed).toEqual({ length: 60 * 1024, same: true });

    // Clipboard: the page sets it, the application (xclip on its display) reads it; and back.
    const display = displayOf(session);
    const env = { PATH: process.env.PATH, DISPLAY: display };
    expect(await driver.evaluate(() => window.sdk.setClipboard('set by the page ✓'))).toBe(true);
    await eventually(() => new Promise<boolean>((resolve) => execFile('xclip', ['-selection', 'clipboard', '-out'], { env, timeout: 2000 }, (err, out) => resolve(!err && out === 'set by the page ✓'))), 10_000, 100);
    const copy = spawn('xclip', ['-selection', 'clipboard', '-in'], { env, stdio: ['pipe', 'ignore', 'ignore'] });
    copy.stdin.end('x'.repeat(20_000) + ' copied by the application');
    await driver.waitForFunction(() => window.events.some((x: any) => x.e === 'clipboard'), undefined, { timeout: 10_000 });
    expect(await driver.evaluate(() => window.events.filter((x: any) => x.e === 'clipboard').map((x: any) => x.p.text.length))).toEqual([20_026]);
    await expect(driver.evaluate(() => window.sdk.setClipboard('x'.repeat(1024 * 1024 + 1)))).rejects.toThrow(/at most 1048576/);

    // Resize: the video comes at the new size.
    expect(await driver.evaluate(() => window.sdk.resizeRemote({ width: 800, height: 600 }))).toBe(true);
    await driver.waitForFunction(() => window.sdk.video.videoWidth === 800 && window.sdk.video.videoHeight === 600, undefined, { timeout: 15_000 });

    // A spectator: the same picture, its role said, its input ignored; the driver goes on.
    const watcher = await sdkPage();
    await watcher.evaluate(async (id) => window.sdk.join(id, { spectator: true }), session);
    await watcher.waitForFunction(() => window.sdk.role === 'spectator' && window.sdk.video.videoWidth === 800);
    const admin = client(stack.url, ADMIN_TOKEN);
    await eventually(async () => (await admin('GET', `/1.0/sessions/${session}`)).body.metadata.peers.spectators === 1, 5000);
    expect((await admin('GET', `/1.0/sessions/${session}`)).body.metadata.peers).toEqual({ driver: true, spectators: 1 });
    // Its control messages go nowhere: a resize from it changes nothing.
    await watcher.evaluate(() => window.sdk.sendControl('screen::resize', { width: 640, height: 480 }));
    await new Promise((r) => setTimeout(r, 1000));
    expect(await driver.evaluate(() => [window.sdk.video.videoWidth, window.sdk.state])).toEqual([800, 'ready']);
    // The cap is one: a second spectator is refused, and nothing changes.
    const refused = await admin('POST', `/1.0/sessions/${session}/join`, { body: { mode: 'spectator' } });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatch(/1 spectators already, its most \(STREAMSTACK_SESSION_MAX_SPECTATORS\)/);
    expect((await admin('POST', `/1.0/sessions/${session}/join`, { body: { mode: 'audience' } })).status).toBe(400);

    await watcher.evaluate(() => window.sdk.disconnect());
    await eventually(async () => (await admin('GET', `/1.0/sessions/${session}`)).body.metadata.peers.spectators === 0, 5000);
    expect(await driver.evaluate(() => window.sdk.state)).toBe('ready');
    await driver.evaluate(() => window.sdk.end());
  });

  /** The mean luma of the page's current video frame, per band of rows (to see where it changed). */
  const frameBands = (page: Page): Promise<number[]> =>
    page.evaluate(() => {
      const v = window.sdk.video;
      const c = document.createElement('canvas');
      [c.width, c.height] = [v.videoWidth, v.videoHeight];
      const g = c.getContext('2d');
      g.drawImage(v, 0, 0);
      const px = g.getImageData(0, 0, c.width, c.height).data;
      const bands = new Array(8).fill(0);
      for (let i = 0; i < px.length; i += 4) bands[Math.floor((i / 4 / c.width) * 8 / c.height)] += px[i] + px[i + 1] + px[i + 2];
      return bands.map((b: number) => Math.round(b / ((c.width * c.height) / 8) / 3));
    });
  const changed = (a: number[], b: number[]) => a.some((v, i) => Math.abs(v - b[i]) >= 1);

  it('runs the samples: the terminal takes typing, the drawing program paints where the pointer drags, the echo echoes', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const name of ['terminal', 'draw', 'echo']) {
      const { body, contentType } = await readSample(name);
      const res = await fetch(`${stack.url}/ams/1.0/applications`, { method: 'POST', body: body as Buffer, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': contentType! } });
      expect(res.status).toBe(201);
    }

    const terminal = await sdkPage();
    await terminal.evaluate(async () => window.sdk.connect({ app: 'terminal' }));
    await new Promise((r) => setTimeout(r, 1500)); // xterm draws its prompt
    const before = await frameBands(terminal);
    await terminal.screenshot({ path: join(ARTIFACTS, 'terminal-before.png') });
    await terminal.mouse.click(400, 300);
    await terminal.keyboard.type('echo streamstack was here; ls /app\n', { delay: 20 });
    await eventually(async () => changed(before, await frameBands(terminal)), 10_000, 200);
    await new Promise((r) => setTimeout(r, 1500)); // the command's output
    await terminal.screenshot({ path: join(ARTIFACTS, 'terminal-typed.png') });
    await terminal.evaluate(() => window.sdk.end());

    const draw = await sdkPage();
    await draw.evaluate(async () => window.sdk.connect({ app: 'draw' }));
    await new Promise((r) => setTimeout(r, 1500));
    const blank = await frameBands(draw);
    await draw.screenshot({ path: join(ARTIFACTS, 'draw-before.png') });
    // Drag a stroke across the lower half of the element.
    await draw.mouse.move(150, 420);
    await draw.mouse.down();
    for (let x = 150; x <= 650; x += 10) await draw.mouse.move(x, 420 + Math.round(40 * Math.sin(x / 40)));
    await draw.mouse.up();
    await eventually(async () => changed(blank, await frameBands(draw)), 10_000, 200);
    const painted = await frameBands(draw);
    await draw.screenshot({ path: join(ARTIFACTS, 'draw-stroke.png') });
    // The stroke is in the lower half: the bands there brightened, the top ones did not change much.
    expect(painted.slice(4).some((v, i) => v > blank[4 + i])).toBe(true);
    await draw.evaluate(() => window.sdk.end());

    const echo = await sdkPage();
    await echo.evaluate(async () => window.sdk.connect({ app: 'echo' }));
    await echo.waitForFunction(() => window.sdk.send('echo', 'hello from the sample test'), undefined, { timeout: 20_000, polling: 200 });
    await echo.waitForFunction(() => window.receivedText().includes('hello from the sample test'), undefined, { timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 500));
    await echo.screenshot({ path: join(ARTIFACTS, 'echo.png') });
    await echo.evaluate(() => window.sdk.end());
  });

  it("plays the driver's microphone into the application's default source; the dashboard's Mute silences it", async () => {
    const admin = client(stack.url, ADMIN_TOKEN);
    // It records what PulseAudio gives it by default: PULSE_SOURCE, the driver's microphone.
    const recorder = { ...ECHO_APP, name: 'recorder', command: 'parec --raw --format=s16le --rate=48000 --channels=1 > "$HOME/mic.raw" & exec xev -geometry 200x200+0+0' };
    expect((await admin('POST', '/ams/1.0/applications', { body: recorder })).status).toBe(201);
    // Chromium's fake microphone: a beep every second.
    const withMic = await launchBrowser(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream']);
    try {
      // As a person does it: the dashboard, Microphone ticked, Start.
      const page = await withMic.browser.newPage();
      await page.goto(stack.url);
      await page.fill('#token', token);
      await page.click('button[type=submit]');
      await page.check('text=Microphone');
      await page.click('button[data-app="recorder"]');
      const mute = page.locator('.stream-bar button', { hasText: /^(Mute|Unmute)$/ });
      await mute.waitFor({ timeout: 30_000 });
      const [session] = (await admin('GET', '/1.0/sessions?status=active')).body.metadata;
      const recording = `${stack.dataDir}/instances/${session.instance_id}/home/mic.raw`;
      const SECOND = 96_000; // bytes: 48 kHz mono s16
      const peak = (pcm: Buffer, from: number, to = pcm.length) => {
        let max = 0;
        for (let i = from & ~1; i + 1 < Math.min(to, pcm.length); i += 2) max = Math.max(max, Math.abs(pcm.readInt16LE(i)));
        return max;
      };
      /** The loudest sample recorded from byte `from` on, and the bytes so far. */
      const loudest = (from = 0) => {
        const pcm = readFileSync(recording);
        return { bytes: pcm.length, max: peak(pcm, from) };
      };
      await eventually(async () => loudest().max > 1000, 15_000, 250);
      // It goes on: a second of it and more.
      await eventually(async () => loudest().bytes > SECOND, 10_000, 250);

      await mute.click();
      expect(await mute.textContent()).toBe('Unmute');
      // What was on its way still plays (how long depends on the buffers between); then a whole
      // second without a beep (the fake microphone beeps every second), and it stays silent.
      const clickedAt = loudest().bytes;
      const silentFrom = await eventually(async () => {
        const pcm = readFileSync(recording);
        for (let s = clickedAt; s + SECOND <= pcm.length; s += SECOND / 10) if (peak(pcm, s, s + SECOND) < 100) return s;
        return null;
      }, 15_000, 250);
      await eventually(async () => loudest().bytes > silentFrom + 3 * SECOND, 10_000, 250);
      expect(loudest(silentFrom).max).toBeLessThan(100);

      await mute.click();
      expect(await mute.textContent()).toBe('Mute');
      const unmutedFrom = loudest().bytes & ~1;
      await eventually(async () => loudest(unmutedFrom).max > 1000, 10_000, 250);
      await page.screenshot({ path: join(ARTIFACTS, 'microphone.png') });
      await page.click('text=End');
    } finally {
      await withMic.close();
    }
  });
});
