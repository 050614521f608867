/**
 * Streaming end to end: the real stack in this process (gateway, agent, AMS, node runtime with
 * the frame source and the media process), real headless Chromium running the SDK-compatible test client
 * (test/client/), a real `POST /1.0/sessions` with a client account. What the browser decodes is
 * the evidence: getStats() counters and the pixels of presented frames.
 */
import { readFileSync } from 'node:fs';
import { NodeRuntime } from '../src/node/runtime/node-runtime.service';
import { PatternRenderer, textLayout, TEXT_LINE } from '../src/node/sources/test-pattern/pattern-renderer';
import { ADMIN_TOKEN, eventually, RunningApp, startApp } from './support/app';
import { isAlive } from './support/processes';
import {
  ClientPage,
  ClientServer,
  connect,
  grabFrame,
  launchBrowser,
  meanAbsDiff,
  openPage,
  serveClient,
  snapshot,
  stats,
  TestBrowser,
  waitFirstFrame,
  waitForStats,
} from './support/browser';
import { client } from './support/http';
import { testPatternManifest } from './support/packages';

declare const window: any; // evaluated in the page

jest.setTimeout(60_000);

const SCREEN = { width: 1280, height: 720, fps: 30 };

const commandOf = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the test pattern's two input lines look like for `lastInput`, as full-range luma. */
function expectedInputLines(lastInput: string | null): Uint8Array {
  const { width, height, fps } = SCREEN;
  const renderer = new PatternRenderer(width, height, fps);
  const frame = Buffer.alloc(renderer.frameBytes);
  renderer.render(frame, { now: Date.now(), frameNumber: 0, droppedFrames: 0, lastInput });
  const r = inputRect();
  const out = new Uint8Array(r.width * r.height);
  for (let y = 0; y < r.height; y++) {
    for (let x = 0; x < r.width; x++) {
      // Limited-range Y' (16..235) as the browser shows it: full range 0..255.
      const luma = frame[(r.y + y) * width + r.x + x];
      out[y * r.width + x] = Math.max(0, Math.min(255, Math.round(((luma - 16) * 255) / 219)));
    }
  }
  return out;
}

/** The two text lines where the test pattern prints the last input it received. */
function inputRect() {
  const l = textLayout(SCREEN.width, SCREEN.height);
  return { x: 0, y: l.lineTops[TEXT_LINE.input], width: SCREEN.width, height: 2 * l.lineHeight };
}

describe('streaming to real Chromium (PROTOCOL.md §3-§5, §9)', () => {
  let stack: RunningApp;
  let admin: ReturnType<typeof client>;
  let alice: ReturnType<typeof client>;
  let chromium: TestBrowser;
  let server: ClientServer;
  let made: string[] = [];
  let pages: ClientPage[] = [];

  beforeAll(async () => {
    [stack, chromium, server] = await Promise.all([startApp(), launchBrowser(), serveClient()]);
    admin = client(stack.url, ADMIN_TOKEN);
    await eventually(async () => (await admin('GET', '/1.0/status')).status === 200);
    const app = await admin('POST', '/ams/1.0/applications', { body: testPatternManifest('pattern', { display: SCREEN }) });
    expect(app.status).toBeLessThan(300);
    alice = client(stack.url, (await admin('POST', '/1.0/accounts', { body: { name: 'alice', role: 'client' } })).body.metadata.token);
  });
  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    await stack?.close();
  });
  afterEach(async () => {
    await Promise.all(pages.map((p) => p.close()));
    pages = [];
    if (made.length) await admin('DELETE', '/1.0/sessions?force=true', { body: { ids: made } });
    made = [];
  });

  const createSession = async (body: Record<string, unknown> = {}) => {
    const res = await alice('POST', '/1.0/sessions', { body: { app: 'pattern', screen: SCREEN, ...body } });
    expect(res.status).toBe(201);
    made.push(res.body.metadata.id);
    return res.body.metadata;
  };
  const newPage = async () => {
    const p = await openPage(chromium.browser, server);
    pages.push(p);
    return p;
  };
  const sessionOf = async (id: string) => (await admin('GET', `/1.0/sessions/${id}`)).body.metadata;
  /** A session streaming to a fresh page: first frame presented. */
  const streamingSession = async (body: Record<string, unknown> = {}) => {
    const session = await createSession(body);
    const p = await newPage();
    await connect(p.page, session);
    await waitFirstFrame(p.page);
    return { session, p };
  };
  /** framesDecoded now and `ms` later. */
  const framesOver = async (p: ClientPage, ms: number) => {
    const a = (await stats(p.page)).video?.framesDecoded ?? 0;
    await sleep(ms);
    const b = (await stats(p.page)).video?.framesDecoded ?? 0;
    return b - a;
  };

  it('decodes the session screen in H.264, receives Opus audio, opens the control channel, and shows its rate control in /metrics', async () => {
    const { p } = await streamingSession();
    const st = await waitForStats(p.page, (s) => s.video?.framesDecoded >= 30 && s.audio?.packetsReceived >= 25);
    expect(st.video).toMatchObject({ codec: 'video/H264', frameWidth: SCREEN.width, frameHeight: SCREEN.height });
    expect(st.audio.codec).toBe('audio/opus');
    // ~30 fps keeps coming.
    expect(await framesOver(p, 1000)).toBeGreaterThanOrEqual(15);
    await p.page.waitForFunction(() => window.streamstack.client.control.readyState === 'open', undefined, { timeout: 5000 });
    const s = await snapshot(p.page);
    expect(s.errors).toEqual([]);
    expect(s.tracks.map((t: any) => [t.kind, t.streams]).sort()).toEqual([['audio', 1], ['video', 1]]);
    // The client closed signalling itself once ICE was up.
    expect(s.wsClose?.code).toBe(1000);
    expect(s.videoWidth).toBe(SCREEN.width);
    // Its peer's rate control and the encoder are in /metrics (the media process reports each second).
    const ids = stack.app.get(NodeRuntime).list().map((i) => i.instance_id);
    expect(ids).toHaveLength(1);
    const [id] = ids;
    await eventually(async () => {
      const text = await fetch(`${stack.url}/metrics`).then((r) => r.text());
      const wanted = [`streamstack_peer_target_bitrate_kbps{instance="${id}"`, `streamstack_peer_loss_ratio{instance="${id}"`, `streamstack_encoder_fps{instance="${id}",encoder="libx264"}`];
      return wanted.every((m) => text.includes(m));
    }, 5000, 200);
  });

  it('draws the input sent on the control channel into the next frames', async () => {
    const { p } = await streamingSession();
    await p.page.waitForFunction(() => window.streamstack.client.control.readyState === 'open', undefined, { timeout: 5000 });
    const rect = inputRect();
    const none = expectedInputLines(null);
    const key = { type: 'input::key', data: { code: 30, pressed: true } };
    const keyText = `input::key code=30 pressed=true`;
    const withKey = expectedInputLines(keyText);
    expect(meanAbsDiff(none, withKey)).toBeGreaterThan(5); // the two texts look different at all

    const before = await grabFrame(p.page, rect);
    expect(meanAbsDiff(before.luma, none)).toBeLessThan(12);

    await p.page.evaluate((m) => window.streamstack.client.sendControl(m), key);
    const after = await eventually(async () => {
      const f = await grabFrame(p.page, rect);
      return meanAbsDiff(f.luma, none) > 10 ? f : null;
    }, 5000, 100);
    const toKey = meanAbsDiff(after.luma, withKey);
    const toNone = meanAbsDiff(after.luma, none);
    // It now shows the key we pressed, and not "(none yet)".
    if (!(toKey < 12 && toKey < toNone / 2)) {
      throw new Error(`input lines differ from "INPUT ${keyText}" by ${toKey.toFixed(1)} and from "INPUT (none yet)" by ${toNone.toFixed(1)}`);
    }
  });

  it('hands a joinable session to a second client: the new page streams, the first one stops', async () => {
    const { session, p: first } = await streamingSession({ joinable: true, idle_time_min: 5 });
    expect(await framesOver(first, 700)).toBeGreaterThan(5);

    const joined = await alice('POST', `/1.0/sessions/${session.id}/join`, { body: {} });
    expect(joined.status).toBe(200);
    const second = await newPage();
    await connect(second.page, joined.body.metadata);
    await waitFirstFrame(second.page);
    await waitForStats(second.page, (s) => s.video?.framesDecoded >= 20 && s.video?.frameWidth === SCREEN.width);

    // The first peer connection ends: no more frames, and the browser sees it go.
    await sleep(500);
    expect(await framesOver(first, 1500)).toBeLessThanOrEqual(1);
    expect(await framesOver(second, 1000)).toBeGreaterThanOrEqual(15);
    await eventually(async () => {
      const s = await snapshot(first.page);
      return ['disconnected', 'failed', 'closed'].includes(s.connectionState) || ['disconnected', 'failed', 'closed'].includes(s.iceConnectionState);
    }, 20_000, 250);
    expect((await snapshot(second.page)).errors).toEqual([]);
  });

  it("streams an instance launched at AMS with enable_streaming to the clients of the account it names, and only to them", async () => {
    const bob = client(stack.url, (await admin('POST', '/1.0/accounts', { body: { name: 'bob', role: 'client' } })).body.metadata.token);
    const launched = await admin('POST', '/ams/1.0/instances', { body: { app: 'pattern', enable_streaming: true, stream_account: 'alice', screen: SCREEN } });
    expect(launched.status).toBe(202);
    const instanceId = String(launched.body.metadata.resources.instances[0]).split('/').pop();
    const sessionId = (await admin('GET', `/ams/1.0/instances/${instanceId}`)).body.metadata.session_id;
    expect(sessionId).toBeTruthy();
    made.push(sessionId);
    await eventually(async () => (await sessionOf(sessionId)).status === 'active', 30_000);

    // Alice's account sees it among her sessions and may join it; Bob's does not know it exists.
    expect((await alice('GET', '/1.0/sessions')).body.metadata.map((s: { id: string }) => s.id)).toContain(sessionId);
    expect((await bob('GET', `/1.0/sessions/${sessionId}`)).status).toBe(404);
    expect((await bob('POST', `/1.0/sessions/${sessionId}/join`, { body: {} })).status).toBe(404);
    const joined = await alice('POST', `/1.0/sessions/${sessionId}/join`, { body: {} });
    expect(joined.status).toBe(200);
    const p = await newPage();
    await connect(p.page, joined.body.metadata);
    await waitFirstFrame(p.page);
    await waitForStats(p.page, (s) => s.video?.framesDecoded >= 10 && s.video?.frameWidth === SCREEN.width);
  });

  it('refuses a stream account that does not exist, or one without enable_streaming, and leaves no instance behind', async () => {
    const before = (await admin('GET', '/ams/1.0/instances')).body.metadata.length;
    const unknown = await admin('POST', '/ams/1.0/instances', { body: { app: 'pattern', enable_streaming: true, stream_account: 'nobody' } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/account "nobody" not found/);
    const alone = await admin('POST', '/ams/1.0/instances', { body: { app: 'pattern', stream_account: 'alice' } });
    expect(alone.status).toBe(400);
    expect(alone.body.error).toMatch(/stream_account needs enable_streaming/);
    const malformed = await admin('POST', '/ams/1.0/instances', { body: { app: 'pattern', enable_streaming: true, stream_account: 'Not A Name' } });
    expect(malformed.status).toBe(400);
    expect((await admin('GET', '/ams/1.0/instances')).body.metadata.length).toBe(before);
  });

  it('stops the stream and reaps every process of the instance when the session is deleted', async () => {
    const { session, p } = await streamingSession();
    const { instance_id } = await sessionOf(session.id);
    const running = stack.app.get(NodeRuntime).list().find((i) => i.instance_id === instance_id);
    expect(running).toBeDefined();
    const pids = running!.pids;
    expect(pids.length).toBeGreaterThanOrEqual(2);
    expect(pids.every(isAlive)).toBe(true);

    const res = await alice('DELETE', `/1.0/sessions/${session.id}`);
    expect(res.status).toBe(200);
    expect(res.body.metadata.status).toBe('terminated');
    await sleep(500);
    expect(await framesOver(p, 1500)).toBeLessThanOrEqual(1);
    await eventually(async () => pids.every((pid) => !isAlive(pid)), 10_000, 100).catch(() => {
      throw new Error(`still isAlive after DELETE: ${pids.filter(isAlive).map((pid) => `${pid} ${commandOf(pid)}`).join('; ')}`);
    });
    expect(stack.app.get(NodeRuntime).list().find((i) => i.instance_id === instance_id)).toBeUndefined();
  });

  it('turns the session to error when its instance crashes (frame source SIGKILLed)', async () => {
    const { session, p } = await streamingSession();
    const { instance_id } = await sessionOf(session.id);
    const pids = stack.app.get(NodeRuntime).list().find((i) => i.instance_id === instance_id)!.pids;
    const frameSource = pids.find((pid) => /frame-source/.test(commandOf(pid)));
    expect(frameSource).toBeDefined();

    process.kill(frameSource!, 'SIGKILL');
    const failed = await eventually(async () => {
      const s = await sessionOf(session.id);
      return s.status === 'error' ? s : null;
    }, 15_000, 100);
    expect(failed.status_message).toMatch(/instance/);
    expect(failed.status_message).toMatch(/frame-source|SIGKILL|killed/);
    // The rest of its processes go too, and the page stops receiving frames.
    await eventually(async () => pids.every((pid) => !isAlive(pid)), 10_000, 100);
    await sleep(300);
    expect(await framesOver(p, 1000)).toBeLessThanOrEqual(1);
  });
});
