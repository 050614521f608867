/**
 * The browser test client (test/client/) itself, in real Chromium, against a stand-in instance
 * (test/client/fake-instance.js: another Chromium page that answers signalling from the
 * instance's side) over a bare WebSocket relay. These pin down the client's protocol behaviour
 * (PROTOCOL.md §4, as Anbox's SDK speaks it) and its timestamp-strip reader (§9), so that the
 * streaming suite and the benchmarks can trust what the client reports.
 */
import { writeTimestampStrip, STRIP_MIN_WIDTH } from '../src/node/sources/test-pattern/timestamp-strip';
import { eventually } from './support/app';
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
  TestBrowser,
  waitFirstFrame,
  waitForStats,
} from './support/browser';
import { BareRelay, startBareRelay } from './support/ws-relay';

// Evaluated in the page (this project's TypeScript has no DOM lib).
declare const window: any;
declare const document: any;
declare const ImageData: any;

jest.setTimeout(60_000);

const b64decode = (s: string) => Buffer.from(s, 'base64').toString('utf8');

describe('browser test client', () => {
  let chromium: TestBrowser;
  let server: ClientServer;

  beforeAll(async () => {
    [chromium, server] = await Promise.all([launchBrowser(), serveClient()]);
  });
  afterAll(async () => {
    await chromium?.close();
    await server?.close();
  });

  describe('timestamp strip reader (PROTOCOL.md §9)', () => {
    let p: ClientPage;
    beforeAll(async () => {
      p = await openPage(chromium.browser, server);
    });
    afterAll(() => p.close());

    it('reads back what drawStrip drew, for edge values', async () => {
      const values = [0, 1, 2 ** 47, 2 ** 48 - 1, 1_764_000_000_123, Date.now()];
      const read = await p.page.evaluate((vs) => {
        const ss = window.streamstack;
        const canvas = document.createElement('canvas');
        canvas.width = ss.STRIP_WIDTH;
        canvas.height = ss.STRIP_CELL;
        const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
        return vs.map((v: number) => {
          ctx.clearRect(0, 0, canvas.width, canvas.height);
          ss.drawStrip(ctx, v);
          return ss.readStrip(ctx.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width);
        });
      }, values);
      expect(read).toEqual(values.map((v) => v % 2 ** 48));
    });

    it("reads the frame source's own strip (writeTimestampStrip), drawn as grey pixels on a wider frame", async () => {
      const width = 1280;
      const height = 32;
      const ms = 1_764_012_345_678;
      const frame = Buffer.alloc((width * height * 3) / 2, 90); // mid-grey under the strip
      writeTimestampStrip(frame, width, height, ms);
      const luma = frame.subarray(0, width * height).toString('base64');
      const read = await p.page.evaluate(
        ([l, w, h]) => {
          const ss = window.streamstack;
          const bytes = Uint8Array.from(atob(l as string), (c) => c.charCodeAt(0));
          const img = new ImageData(w as number, h as number);
          // Slightly soften the cells, as a lossy codec would: 0 -> 20, 255 -> 235.
          bytes.forEach((y, i) => img.data.set([20 + (y * 215) / 255, 20 + (y * 215) / 255, 20 + (y * 215) / 255, 255], i * 4));
          const canvas = document.createElement('canvas');
          canvas.width = w as number;
          canvas.height = h as number;
          const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
          ctx.putImageData(img, 0, 0);
          return ss.readStrip(ctx.getImageData(0, 0, w as number, 16).data, w);
        },
        [luma, width, height] as const,
      );
      expect(read).toBe(ms);
      expect(STRIP_MIN_WIDTH).toBe(768);
    });
  });

  describe('signalling and media against a stand-in instance', () => {
    let relay: BareRelay;
    let client: ClientPage;
    let instance: ClientPage;

    beforeEach(async () => {
      relay = await startBareRelay();
      [client, instance] = await Promise.all([openPage(chromium.browser, server), openPage(chromium.browser, server, '/fake-instance.html')]);
    });
    afterEach(async () => {
      await instance.page.evaluate(() => window.streamstack.instance?.stop()).catch(() => undefined);
      await Promise.all([client.close(), instance.close()]);
      await relay.close();
    });

    const startInstance = (opts: Record<string, unknown> = {}) =>
      instance.page.evaluate((o) => window.streamstack.fakeInstance(o), { url: relay.instanceUrl, ...opts });
    const instanceState = () => instance.page.evaluate(() => window.streamstack.instance.snapshot());

    it('speaks API version 2 as the SDK does, decodes H.264 + Opus, opens control and closes the socket once connected', async () => {
      await startInstance();
      await connect(client.page, { url: relay.clientUrl, stun_servers: [{ urls: ['stun:127.0.0.1:9'], username: '', password: '' }] }, { data_channels: ['app-data'] });
      await waitFirstFrame(client.page);
      const s = await snapshot(client.page);
      expect(s.errors).toEqual([]);

      // The client's side of the exchange, in order, with exactly the SDK's fields.
      const fromClient = relay.log.filter((m) => m.from === 'client').map((m) => JSON.parse(m.text));
      expect(fromClient[0]).toEqual({ type: 'discover' });
      expect(fromClient[1]).toEqual({
        type: 'settings',
        api_version: 2,
        data_channels: ['app-data'],
        enable_speaker: true,
        enable_microphone: false,
        enable_video: true,
        enable_camera: false,
        video: { preferred_decoder_codecs: ['H264'] },
      });
      const answer = fromClient.find((m) => m.type === 'answer');
      expect(b64decode(answer.sdp)).toMatch(/^v=0\r\n/);
      expect(b64decode(answer.sdp)).toMatch(/a=setup:active|a=setup:passive/);
      // Trickled ones, well-formed. There may be none: the client closes its socket once ICE
      // connects, which the instance's checks can bring about before Chromium has sent one (a
      // clean-clone run saw that once).
      const candidates = fromClient.filter((m) => m.type === 'candidate');
      for (const c of candidates) {
        expect(b64decode(c.candidate)).toMatch(/^candidate:\S+ \d+ (udp|tcp) /i);
        expect(typeof c.sdpMid).toBe('string');
        expect(Number.isInteger(c.sdpMLineIndex)).toBe(true);
      }
      // Data channels exist before discover is sent; the answer follows the offer.
      expect(s.steps.channelsCreated).toBeLessThanOrEqual(s.steps.discoverSent);
      expect(s.steps.offerReceived).toBeLessThan(s.steps.answerSent);
      // Once ICE is up the client closes its socket itself.
      expect(s.wsClose).toMatchObject({ code: 1000 });
      expect(s.steps.wsClosed).toBeGreaterThanOrEqual(s.steps.iceConnected);
      expect(s.tracks.map((t: any) => [t.kind, t.streams]).sort()).toEqual([['audio', 1], ['video', 1]]);

      const st = await waitForStats(client.page, (x) => x.video?.framesDecoded > 10 && x.video?.frameWidth === 1280 && x.audio?.packetsReceived > 10);
      expect(st.video).toMatchObject({ codec: 'video/H264', frameWidth: 1280, frameHeight: 720 });
      expect(st.audio.codec).toBe('audio/opus');

      // The control channel (and the user-named one) open; a control message reaches the peer.
      await client.page.waitForFunction(() => window.streamstack.client.control.readyState === 'open');
      const textRect = { x: 0, y: 40, width: 1280, height: 60 }; // where the stand-in prints its last input
      const before = await grabFrame(client.page, textRect);
      expect(before.luma.length).toBe(1280 * 60);
      expect(Math.abs(before.strip! - before.meta.presentationTime)).toBeLessThan(1000);
      await client.page.evaluate(() => window.streamstack.client.sendControl({ type: 'input::key', data: { code: 30, pressed: true } }));
      await instance.page.waitForFunction(() => window.streamstack.instance.lastInput !== null);
      // The decoded pixels show it: grabFrame reads what is presented.
      await eventually(async () => meanAbsDiff((await grabFrame(client.page, textRect)).luma, before.luma) > 3, 5000, 100);
      const inst = await instanceState();
      expect(inst.channels.map((c: any) => c.label).sort()).toEqual(['app-data', 'control']);
      expect(JSON.parse(inst.controlMessages[0].data)).toEqual({ type: 'input::key', data: { code: 30, pressed: true } });
    });

    it('queues candidates that arrive before the offer and adds them once the remote description is set', async () => {
      // The stand-in sends all its candidates first and never adds the client's: ICE can only
      // succeed if the client applied the queued ones.
      await startInstance({ candidatesFirst: true, ignoreClientCandidates: true });
      await connect(client.page, { url: relay.clientUrl, stun_servers: [] });
      await waitFirstFrame(client.page);
      const s = await snapshot(client.page);
      expect(s.errors).toEqual([]);
      expect(s.counters.remoteCandidatesQueued).toBeGreaterThan(0);
      expect(s.counters.remoteCandidatesQueued).toBe(s.counters.remoteCandidates);
      expect(s.counters.addIceCandidateErrors).toBe(0);
      expect(s.steps.firstRemoteCandidate).toBeLessThan(s.steps.offerReceived);
    });

    it('measures capture-to-display latency from the strip of presented frames', async () => {
      await startInstance();
      await connect(client.page, { url: relay.clientUrl, stun_servers: [] });
      await waitFirstFrame(client.page);
      await client.page.evaluate(() => window.streamstack.client.startStripReader());
      await client.page.waitForFunction(() => window.streamstack.client.stripSamples.length >= 30, undefined, { timeout: 10_000 });
      const summary = await client.page.evaluate(() => window.streamstack.client.stopStripReader());
      // Canvas capture + H.264 + jitter buffer on loopback: tens of ms, never negative.
      expect(summary.latency.p50).toBeGreaterThan(0);
      expect(summary.latency.p95).toBeLessThan(1000);
      expect(summary.invalid).toBeLessThanOrEqual(summary.samples / 10);
      expect(Math.abs(summary.clockSkew.p50)).toBeLessThanOrEqual(1);
    });

    it('fails loudly when the offer announces no MediaStream (no msid): the SDK reads event.streams[0]', async () => {
      await startInstance({ msid: false });
      await connect(client.page, { url: relay.clientUrl, stun_servers: [] });
      await client.page.waitForFunction(() => window.streamstack.client.errors.length > 0, undefined, { timeout: 10_000 });
      const s = await snapshot(client.page);
      expect(s.errors.join('\n')).toMatch(/no streams\[0\]/);
      // Nothing reaches the page's video element (the browser may still decode a frame or two).
      expect(s.steps.firstFrame).toBeUndefined();
      expect(s.videoWidth).toBe(0);
    });
  });
});
