/**
 * A real browser as the client: headless Chromium does PROTOCOL.md §4 against a real media
 * process through an in-test bridge (no gateway); the media process reads a real frame source
 * (the test pattern, 640x480) and encodes it in-process. Chromium's RTCPeerConnection must get
 * a MediaStream with each track, decode frames of the right size from the IDR forced for it,
 * see our sender reports, and recover lost packets by NACK (through a lossy relay).
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../../test/support/browser';
import { startTestStream, type TestStream } from '../../../test/support/media-process';
import { LossyRelay } from '../../../test/support/streamer-media';
import type { StreamerProcess } from '../media-link/streamer-process';
import type { InstanceSignal } from '../media-link/streamer.messages';

jest.setTimeout(45_000);

const CHROMIUM = CHROMIUM_PATH;
const ARGS = [
  ...CHROMIUM_ARGS,
  // Loopback only here: let WebRTC use it, and show real addresses instead of mDNS names.
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];
const WIDTH = 640;
const HEIGHT = 480;

/** The client side, as a browser page would run it against the gateway's signalling socket. */
const PAGE = `<!doctype html><html><body><video id="v" autoplay muted playsinline></video><audio id="a" autoplay muted></audio><script>
window.state = { tracks: [], signals: [], connection: [], frames: 0, presentDelays: [], t: {} };
const mark = (k) => { if (!(k in state.t)) state.t[k] = performance.now(); };
window.start = (opts) => {
  const pc = new RTCPeerConnection({ iceServers: [] });
  window.pc = pc;
  window.control = pc.createDataChannel('control');
  control.onclose = () => mark('control-closed');
  const queued = [];
  pc.ontrack = (e) => {
    state.tracks.push({ kind: e.track.kind, streams: e.streams.length, streamId: e.streams[0] ? e.streams[0].id : null });
    // The SDK's way: each kind's own event.streams[0] goes to its element.
    const v = document.getElementById(e.track.kind === 'video' ? 'v' : 'a');
    if (e.streams[0]) { v.srcObject = e.streams[0]; v.play().catch(() => {}); }
    if (e.track.kind === 'video' && v.requestVideoFrameCallback) {
      const onFrame = (now, meta) => {
        state.frames++;
        // receiveTime: last packet of the frame in; presentationTime: on screen.
        if (meta.receiveTime && meta.presentationTime) state.presentDelays.push(meta.presentationTime - meta.receiveTime);
        v.requestVideoFrameCallback(onFrame);
      };
      v.requestVideoFrameCallback(onFrame);
    }
  };
  pc.onicecandidate = (e) => {
    if (opts.noCandidates || !e.candidate || !e.candidate.candidate) return;
    toStreamer({ type: 'candidate', candidate: btoa(e.candidate.candidate), sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex });
  };
  pc.onconnectionstatechange = () => { state.connection.push(pc.connectionState); mark(pc.connectionState); };
  window.fromStreamer = async (m) => {
    state.signals.push(m.type);
    mark(m.type);
    if (m.type === 'resp:discover') {
      toStreamer({ type: 'settings', api_version: 2, data_channels: [], enable_speaker: true, enable_microphone: false, enable_video: true, enable_camera: false, video: { preferred_decoder_codecs: ['H264'] } });
    } else if (m.type === 'offer') {
      await pc.setRemoteDescription({ type: 'offer', sdp: atob(m.sdp) });
      await pc.setLocalDescription(await pc.createAnswer());
      let sdp = pc.localDescription.sdp;
      if (opts.noCandidates) sdp = sdp.replace(/^a=(candidate|end-of-candidates).*\\r\\n/gm, '');
      state.answer = sdp;
      mark('answer');
      toStreamer({ type: 'answer', sdp: btoa(sdp) });
      for (const c of queued.splice(0)) await pc.addIceCandidate(c);
    } else if (m.type === 'candidate') {
      const c = { candidate: atob(m.candidate), sdpMid: m.sdpMid, sdpMLineIndex: m.sdpMLineIndex };
      if (pc.remoteDescription) await pc.addIceCandidate(c); else queued.push(c);
    }
  };
  mark('discover');
  toStreamer({ type: 'discover' });
};
window.stats = async () => {
  const out = {};
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp') out[s.kind] = s;
    if (s.type === 'remote-outbound-rtp') out['sr-' + s.kind] = s;
  });
  return JSON.parse(JSON.stringify(out));
};
</script></body></html>`;

interface Stats {
  video?: { framesDecoded?: number; frameWidth?: number; frameHeight?: number; nackCount?: number; packetsLost?: number; packetsReceived?: number; pliCount?: number; keyFramesDecoded?: number };
  audio?: { packetsReceived?: number };
  'sr-video'?: { packetsSent?: number; reportsSent?: number };
  'sr-audio'?: { packetsSent?: number };
}

describe('streamer with headless Chromium', () => {
  let browser: Browser;
  let stream: TestStream;
  let streamer: StreamerProcess;
  let generation = 0;
  /** Keyframes the engine forced, by reason, from its log. */
  const forced = (reason: string) => streamer.stderrTail().split(`keyframe forced (${reason})`).length - 1;

  beforeAll(async () => {
    // A long GOP: a viewer's first frame must come from the IDR forced for it, not a periodic one.
    [browser, stream] = await Promise.all([
      chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 30_000 }),
      startTestStream({ width: WIDTH, height: HEIGHT, fps: 30, video: { encoder: 'libx264', gop: 600, minKbps: 300, maxKbps: 2000, startKbps: 1200 } }),
    ]);
    streamer = stream.streamer;
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await stream?.stop();
  });

  /** Opens a page that joins as a new generation; messages from the streamer are bridged in. */
  async function join(
    opts: { noCandidates?: boolean; rewriteOffer?: (sdp: string) => string; rewriteCandidate?: (candidate: string) => string } = {},
  ): Promise<{ page: Page; generation: number; t0: number }> {
    const g = ++generation;
    const page = await browser.newPage();
    await page.exposeFunction('toStreamer', (message: never) => streamer.signal(g, message));
    await page.setContent(PAGE);
    streamer.on('signal', (gen: number, message: InstanceSignal) => {
      if (gen !== g || page.isClosed()) return;
      let m = message;
      const rewrite = (b64: string, fn: (text: string) => string) => Buffer.from(fn(Buffer.from(b64, 'base64').toString('utf8'))).toString('base64');
      if (m.type === 'offer' && opts.rewriteOffer) m = { ...m, sdp: rewrite(m.sdp, opts.rewriteOffer) };
      if (m.type === 'candidate' && opts.rewriteCandidate) m = { ...m, candidate: rewrite(m.candidate, opts.rewriteCandidate) };
      page.evaluate(`window.fromStreamer(${JSON.stringify(m)})`).catch(() => undefined);
    });
    const t0 = performance.now();
    await page.evaluate(`window.start(${JSON.stringify({ noCandidates: Boolean(opts.noCandidates) })})`);
    return { page, generation: g, t0 };
  }

  const stats = (page: Page) => page.evaluate('window.stats()') as Promise<Stats>;
  async function until<T>(page: Page, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await read();
      if (ok(v)) return v;
      if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms; last ${JSON.stringify(v)}; streamer: ${streamer.stderrTail().slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('plays: a MediaStream on each track event, frames of the right size decoded, sender reports seen', async () => {
    const forcedBefore = forced('new-peer');
    const { page, t0 } = await join();
    const connected = await until(page, () => page.evaluate('window.state.connection') as Promise<string[]>, (c) => c.includes('connected'), 10_000, 'connected');
    const connectMs = performance.now() - t0;
    expect(connected).not.toContain('failed');
    const first = await until(page, () => stats(page), (s) => (s.video?.framesDecoded ?? 0) > 0, 10_000, 'first decoded frame');
    const firstFrameMs = performance.now() - t0;
    const s = await until(page, () => stats(page), (x) => (x.video?.framesDecoded ?? 0) >= 90 && (x.audio?.packetsReceived ?? 0) > 50 && Boolean(x['sr-video']) && Boolean(x['sr-audio']), 15_000, '90 frames, audio and SRs');

    const state = (await page.evaluate('window.state')) as {
      tracks: Array<{ kind: string; streams: number; streamId: string | null }>;
      presentDelays: number[];
      answer: string;
      t: Record<string, number>;
    };
    expect(state.tracks.map((t) => t.kind).sort()).toEqual(['audio', 'video']);
    // event.streams[0] exists for both (what the SDK reads); one stream per track (no lip-sync hold-back).
    expect(state.tracks.every((t) => t.streams === 1 && t.streamId)).toBe(true);
    expect(state.tracks[0].streamId).not.toBe(state.tracks[1].streamId);
    // We offer active (see StreamerPeer.start): the browser is the DTLS server.
    expect(state.answer).toMatch(/a=setup:passive/);
    // Chrome accepts the playout-delay header extension with the id we offered (the streamer
    // then sends min = max = 0 on every video packet: frames are presented as soon as decoded).
    expect(state.answer).toMatch(/^a=extmap:5 http:\/\/www\.webrtc\.org\/experiments\/rtp-hdrext\/playout-delay\r$/m);
    expect(s.video).toMatchObject({ frameWidth: WIDTH, frameHeight: HEIGHT });
    expect(s['sr-video']!.packetsSent).toBeGreaterThan(0);
    // Started at the IDR forced when its video track opened: nothing to ask for.
    expect(forced('new-peer')).toBeGreaterThan(forcedBefore);
    expect(first.video?.pliCount ?? 0).toBe(0);
    expect(s.video?.keyFramesDecoded ?? 0).toBeGreaterThanOrEqual(1);
    // Steady state: after the first second (the jitter buffer settles).
    const delays = state.presentDelays.slice(30).sort((a, b) => a - b);
    const median = delays[Math.floor(delays.length / 2)];
    const t = state.t;
    console.log(
      `chromium (page clock): discover -> resp:discover ${(t['resp:discover'] - t.discover).toFixed(0)} ms (bridge round trip), ` +
        `-> offer ${(t.offer - t.discover).toFixed(0)} ms, offer -> answer sent ${(t.answer - t.offer).toFixed(0)} ms (Chrome), ` +
        `answer sent -> connected ${(t.connected - t.answer).toFixed(0)} ms; ` +
        `test clock: discover -> connected ${connectMs.toFixed(0)} ms, -> first decoded frame ${firstFrameMs.toFixed(0)} ms; ` +
        `last packet received -> frame presented: median ${median?.toFixed(1)} ms over ${delays.length} frames; pli ${s.video?.pliCount ?? 0}`,
    );
    if (process.env.STREAMER_LOG) console.log(streamer.stderrTail());
    await page.close();
  });

  it('connects every join quickly (no 1 s DTLS retransmission) and closes the replaced one', async () => {
    const pages: Page[] = [];
    const answerToConnected: number[] = [];
    for (let i = 0; i < 6; i++) {
      const { page } = await join();
      pages.push(page);
      await until(page, () => page.evaluate('window.state.connection') as Promise<string[]>, (c) => c.includes('connected'), 10_000, 'connected');
      const t = (await page.evaluate('window.state.t')) as Record<string, number>;
      answerToConnected.push(Math.round(t.connected - t.answer));
      // The previous page's peer was replaced: the streamer closed it, which the browser sees
      // at once as its data channels closing (ICE itself would only time out after seconds).
      if (pages.length > 1) {
        const old = pages[pages.length - 2];
        await until(old, () => old.evaluate('window.control.readyState') as Promise<string>, (st) => st === 'closed', 5000, 'old control channel closed');
      }
    }
    console.log(`chromium: answer sent -> connected over ${answerToConnected.length} joins: ${answerToConnected.join(', ')} ms`);
    // A ClientHello lost to libdatachannel would cost OpenSSL's 1 s retransmission; Chrome
    // retransmits after ~2x the ICE RTT (50 ms at least). Median: this machine is shared.
    const median = [...answerToConnected].sort((a, b) => a - b)[Math.floor(answerToConnected.length / 2)];
    expect(median).toBeLessThan(500);
    await Promise.all(pages.map((p) => p.close()));
  });

  it('recovers packets lost on the way by NACK retransmission', async () => {
    const relay = await LossyRelay.open();
    let n = 0;
    // About 1 in 60 video packets (first transmissions only) after the first 100.
    relay.drop = () => ++n > 100 && n % 60 === 0;
    // The browser reaches the media process only through the relay: the offer carries no
    // candidates (they are trickled once the answer is in), so each of its host candidates is
    // rewritten to the relay's port; the media process learns the relay from its checks.
    const { page } = await join({
      noCandidates: true,
      rewriteOffer: (sdp) => {
        relay.dropSsrc = Number(/^m=video[\s\S]*?^a=ssrc:(\d+) /m.exec(sdp)![1]);
        return sdp;
      },
      rewriteCandidate: (candidate) => {
        const m = / 127\.0\.0\.1 (\d+) typ host/.exec(candidate);
        if (!m) return candidate;
        relay.target = { address: '127.0.0.1', port: Number(m[1]) };
        return candidate.replace(m[0], ` 127.0.0.1 ${relay.port} typ host`);
      },
    });
    try {
      const s = await until(page, () => stats(page), (x) => (x.video?.nackCount ?? 0) >= 3 && relay.dropped.size >= 3 && (x.video?.framesDecoded ?? 0) > 60, 20_000, 'NACKs');
      // Give the last retransmissions time to land, then every dropped packet must have been recovered.
      await new Promise((r) => setTimeout(r, 500));
      const after = await stats(page);
      console.log(`chromium behind a lossy relay: ${relay.dropped.size} packets dropped, nackCount ${after.video?.nackCount}, packetsLost ${after.video?.packetsLost}, pliCount ${after.video?.pliCount}, framesDecoded ${after.video?.framesDecoded}`);
      expect(s.video!.nackCount).toBeGreaterThanOrEqual(3);
      expect(after.video!.packetsLost).toBeLessThanOrEqual(1);
      expect(after.video!.framesDecoded!).toBeGreaterThan(s.video!.framesDecoded!);
    } finally {
      await page.close();
      relay.close();
    }
  });
});
