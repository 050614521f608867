/**
 * The media process as the runtime runs it: a real child process reading a real frame source
 * (the test pattern), encoding in-process, and a node-datachannel client playing the browser's
 * part of the signalling exchange.
 */
import { cleanup } from 'node-datachannel';
import { isH264KeyframeStart } from './rtp';
import { INPUT_EVENTS_PER_SECOND } from './streamer-peer';
import { closeAllTestClients, payloadOf, TestClientPeer } from '../../../test/support/streamer-client';
import { startTestStream, type TestStream } from '../../../test/support/media-process';
import { LossyRelay } from '../../../test/support/streamer-media';
import type { StreamerProcess } from '../media-link/streamer-process';
import type { InputEvent, MediaStats } from '../media-link/streamer.messages';
import { waitUntil } from '../../../test/support/wait';

jest.setTimeout(30_000);

/** The header extension block of a received packet (profile, then the elements), or null without the X bit. */
const extensionOf = (p: { header: { payloadOffset: number }; packet: Buffer }) =>
  p.packet[0] & 0x10 ? p.packet.subarray(12 + 4 * (p.packet[0] & 0x0f), p.header.payloadOffset) : null;
const PLAYOUT_DELAY_EXTMAP = /^a=extmap:5 http:\/\/www\.webrtc\.org\/experiments\/rtp-hdrext\/playout-delay\r$/m;

describe('streamer process', () => {
  let stream: TestStream;
  let streamer: StreamerProcess;
  /** Keyframes the engine forced, by reason, from its log. */
  const forced = (reason: string) => streamer.stderrTail().split(`keyframe forced (${reason})`).length - 1;
  const stats: MediaStats[] = [];
  const inputs: InputEvent[] = [];
  const states: Array<[number, string]> = [];
  const firstFrames: number[] = [];
  let generation = 0;

  beforeAll(async () => {
    stream = await startTestStream();
    streamer = stream.streamer;
    streamer.on('stats', (s) => stats.push(s));
    streamer.on('input', (e) => inputs.push(e));
    streamer.on('client-state', (g, s) => states.push([g, s]));
    streamer.on('first-frame', (g) => firstFrames.push(g));
  });

  afterAll(async () => {
    closeAllTestClients();
    await stream?.stop();
    cleanup();
  });

  afterEach(() => {
    if (process.env.STREAMER_LOG) process.stderr.write(`streamer log tail:\n${streamer.stderrTail()}\n`);
  });

  it('streams H.264 from an IDR and Opus to a new client, with the negotiated payload types and SSRCs', async () => {
    const client = new TestClientPeer(streamer, ++generation, { dataChannels: ['chat'] });
    const timing = await client.connect();
    const connectedAt = performance.now();
    await client.waitFor(() => client.received.video.length >= 60 && client.received.audio.length >= 20, 10_000, 'media');

    const discover = await client.next('resp:discover');
    expect(discover).toEqual({ type: 'resp:discover', max_api_version: 2, fps: 30, capabilities: [] });
    // The offer: H.264 and Opus send-only, each with an msid, and an application m-line.
    expect(client.offerSdp).toMatch(/^m=video \d+ UDP\/TLS\/RTP\/SAVPF 96\r$/m);
    expect(client.offerSdp).toMatch(/^a=fmtp:96 .*profile-level-id=42e01f/m);
    expect(client.offerSdp).toMatch(/^a=fmtp:96 .*packetization-mode=1/m);
    expect(client.offerSdp).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 111\r$/m);
    expect(client.offerSdp).toMatch(/^a=rtpmap:111 opus\/48000\/2/m);
    expect(client.offerSdp).toMatch(/^m=application \d+ UDP\/DTLS\/SCTP webrtc-datachannel/m);
    // No candidate in the offer: ours are trickled once the answer is set (withholdCandidates).
    expect(client.offerSdp).not.toMatch(/^a=candidate/m);
    expect((client.offerSdp.match(/^a=sendonly/gm) ?? []).length).toBe(2);
    // Each track is announced with an msid (a MediaStream for the browser's track event); one
    // stream per track, so that the browser does not lip-sync video to the audio jitter buffer.
    const msids = [...client.offerSdp.matchAll(/^a=msid:(\S+) (\S+)/gm)].map((m) => m[1]);
    expect(msids).toHaveLength(2);
    expect(new Set(msids).size).toBe(2);
    // The playout-delay header extension, offered on video only; libdatachannel's answer keeps it.
    expect(client.offerSdp).toMatch(PLAYOUT_DELAY_EXTMAP);
    expect(client.offerSdp.match(/^a=extmap:/gm)).toHaveLength(1);
    expect(client.answerSdp).toMatch(PLAYOUT_DELAY_EXTMAP);

    // Its video track opening forced a keyframe: the first thing it got, which the runtime
    // hears of once (it boots the next warm spares then).
    expect(forced('new-peer')).toBeGreaterThanOrEqual(1);
    expect(firstFrames.filter((g) => g === generation)).toEqual([generation]);
    expect(streamer.stderrTail()).toMatch(new RegExp(`g${generation}: first video \\(a keyframe\\) \\d+ ms after settings, \\d+ ms after its track opened`));

    const video = client.received.video;
    expect(isH264KeyframeStart(payloadOf(video[0]))).toBe(true);
    expect(video.every((p) => p.header.payloadType === 96)).toBe(true);
    expect(video.every((p) => p.header.ssrc === client.offeredSsrc('video'))).toBe(true);
    for (let i = 1; i < video.length; i++) expect(video[i].header.sequence).toBe((video[i - 1].header.sequence + 1) & 0xffff);
    // Accepted: every video packet carries it, min = max = 0 (id 5, 3 bytes); audio none.
    expect(video.every((p) => extensionOf(p)?.equals(Buffer.from([0xbe, 0xde, 0, 1, 0x52, 0, 0, 0])))).toBe(true);
    const audio = client.received.audio;
    expect(audio.every((p) => p.header.payloadType === 111 && p.header.ssrc === client.offeredSsrc('audio'))).toBe(true);
    expect(audio.every((p) => extensionOf(p) === null)).toBe(true);

    expect(states).toContainEqual([generation, 'connected']);
    // Stats come once a second while someone watches, with this peer's rate control.
    const ours = () => stats.find((s) => s.fps > 15 && s.peers.some((p) => p.generation === generation));
    await client.waitFor(() => ours() !== undefined, 3000, 'stats of a full second');
    const last = ours()!;
    expect(last.encoder).toBe('libx264');
    expect(last.peers[0].targetKbps).toBeGreaterThanOrEqual(300);
    console.log(`discover -> connected ${timing.discoverToConnected.toFixed(0)} ms; settings -> offer ${timing.settingsToOffer.toFixed(0)} ms; connected -> first video packet ${(video[0].at - connectedAt).toFixed(0)} ms`);
  });
  it('sends no playout-delay extension when the answer did not accept it', async () => {
    // A receiver that does not know the extension: its answer has no extmap for it.
    const client = new TestClientPeer(streamer, ++generation, { rewriteOffer: (sdp) => sdp.replace(/^a=extmap:.*\r\n/gm, '') });
    await client.connect();
    expect(client.answerSdp).not.toMatch(/a=extmap/);
    await client.waitFor(() => client.received.video.length >= 10, 10_000, 'video');
    expect(client.received.video.every((p) => extensionOf(p) === null && p.header.payloadOffset === 12)).toBe(true);
    await waitUntil(() => /g\d+: answer applied .*; playout-delay extension not accepted/.test(streamer.stderrTail()), 2000);
    client.close();
  });

  it('sends RTCP sender reports for what it forwards', async () => {
    const client = new TestClientPeer(streamer, ++generation);
    await client.connect();
    const ssrc = () => client.offeredSsrc('video');
    await client.waitFor(() => client.rtcp.some((r) => r.fb.kind === 'sr' && r.fb.ssrc === ssrc() && r.fb.packetCount > 20), 5000, 'a video SR');
    const sr = client.rtcp.filter((r) => r.fb.kind === 'sr' && r.fb.ssrc === ssrc()).pop()!;
    if (sr.fb.kind !== 'sr') throw new Error('not an SR');
    // It counts the packets sent so far and maps to the RTP time of the latest one.
    const sentBefore = client.received.video.filter((p) => p.at <= sr.at);
    expect(Math.abs(sr.fb.packetCount - sentBefore.length)).toBeLessThanOrEqual(5);
    const latest = sentBefore[sentBefore.length - 1].header.timestamp;
    expect(Math.abs((sr.fb.rtpTimestamp - latest) | 0)).toBeLessThanOrEqual(2 * 3000);
    // NTP time is the wall clock (seconds since 1900).
    const ntpSeconds = Number(sr.fb.ntp >> 32n) - 2_208_988_800;
    expect(Math.abs(ntpSeconds - Date.now() / 1000)).toBeLessThan(5);
    await client.waitFor(() => client.rtcp.some((r) => r.kind === 'audio' && r.fb.kind === 'sr' && r.fb.ssrc === client.offeredSsrc('audio')), 5000, 'an audio SR');
    client.close();
  });

  it('forwards valid control input and ignores malformed input', async () => {
    const client = new TestClientPeer(streamer, ++generation);
    await client.connect();
    await client.waitFor(() => client.control.isOpen(), 5000, 'the control channel');
    const before = inputs.length;
    client.sendControl('{not json');
    client.sendControl('[1,2]');
    client.sendControl({ type: 'input::teleport', data: {} });
    client.sendControl({ type: 'input::key', data: { code: 'A', pressed: true } });
    client.sendControl({ type: 'input::mouse-button', data: { button: 1 } });
    client.sendControl({ type: 'input::key', data: { code: 30, pressed: 1 } });
    client.sendControl({ type: 'input::mouse-move', data: { x: 1e12, y: 0 } });
    client.sendControl('x'.repeat(10_000));
    client.sendControl({ type: 'input::key', data: { code: 30, pressed: true } });
    client.sendControl({ type: 'input::mouse-move', data: { x: 10, y: 20.5, rx: 1, ry: -2, extra: 'dropped' } });
    await waitUntil(() => inputs.length >= before + 2, 5000);
    expect(inputs.slice(before)).toEqual([
      { type: 'input::key', data: { code: 30, pressed: true } },
      { type: 'input::mouse-move', data: { x: 10, y: 20.5, rx: 1, ry: -2 } },
    ]);
    expect(streamer.alive).toBe(true);
    client.close();
  });

  it('drops input beyond its rate with one log line, and keeps the rest in order', async () => {
    const client = new TestClientPeer(streamer, ++generation);
    await client.connect();
    await client.waitFor(() => client.control.isOpen(), 5000, 'the control channel');
    await new Promise((r) => setTimeout(r, 1000)); // a fresh second of allowance
    const before = inputs.length;
    for (let i = 0; i < 3000; i++) client.sendControl({ type: 'input::mouse-move', data: { x: i, y: 0 } });
    await waitUntil(() => streamer.stderrTail().includes(`dropping input events beyond ${INPUT_EVENTS_PER_SECOND} a second`), 5000);
    await new Promise((r) => setTimeout(r, 500));
    const got = inputs.slice(before).map((e) => e.data.x as number);
    expect(got.length).toBeGreaterThanOrEqual(INPUT_EVENTS_PER_SECOND);
    expect(got.length).toBeLessThan(3000);
    expect(got.slice(0, INPUT_EVENTS_PER_SECOND)).toEqual([...Array(INPUT_EVENTS_PER_SECOND).keys()]);
    expect(streamer.stderrTail().split('dropping input events beyond').length - 1).toBe(1);
    expect(streamer.alive).toBe(true);
    client.close();
  });

  it('drops a clipboard text whole when the input rate took one of its pieces (it came with a hole in it)', async () => {
    const clipboards: string[] = [];
    const onClipboard = (text: string) => clipboards.push(text);
    streamer.on('clipboard', onClipboard);
    const client = new TestClientPeer(streamer, ++generation);
    await client.connect();
    await client.waitFor(() => client.control.isOpen(), 5000, 'the control channel');
    await new Promise((r) => setTimeout(r, 1000)); // a fresh second of allowance
    // The 1200th event of the second is the text's first piece; its second and last are over.
    for (let i = 0; i < INPUT_EVENTS_PER_SECOND - 1; i++) client.sendControl({ type: 'input::mouse-move', data: { x: i, y: 0 } });
    for (const [text, more] of [['a', true], ['b', true], ['c', false]] as const) client.sendControl({ type: 'clipboard::set', data: { text, more } });
    await waitUntil(() => streamer.stderrTail().includes('clipboard text ignored: a piece of it was lost'), 5000);
    await new Promise((r) => setTimeout(r, 1000));
    client.sendControl({ type: 'clipboard::set', data: { text: 'next' } });
    await waitUntil(() => clipboards.length > 0, 5000);
    expect(clipboards).toEqual(['next']);
    streamer.off('clipboard', onClipboard);
    client.close();
  });

  it("passes the driver's clipboard on whole (pieces joined), refuses one over 1 MiB, asks for resizes, and ignores a spectator's", async () => {
    const clipboards: string[] = [];
    const resizes: string[] = [];
    streamer.on('clipboard', (text) => clipboards.push(text));
    streamer.on('resize', (w, h) => resizes.push(`${w}x${h}`));
    const driver = new TestClientPeer(streamer, ++generation);
    await driver.connect();
    await driver.waitFor(() => driver.notices.some((n) => n.type === 'stream::role'), 5000, 'the role');
    expect(driver.notices.find((n) => n.type === 'stream::role')!.data).toEqual({ role: 'driver' });
    driver.sendControl({ type: 'clipboard::set', data: { text: 'one ', more: true } });
    driver.sendControl({ type: 'clipboard::set', data: { text: 'two ', more: true } });
    driver.sendControl({ type: 'clipboard::set', data: { text: 'three' } });
    // 1 MiB + 8 KiB in pieces: refused as a whole.
    const piece = 'x'.repeat(8192);
    for (let i = 0; i < 129; i++) driver.sendControl({ type: 'clipboard::set', data: { text: piece, more: i < 128 } });
    driver.sendControl({ type: 'clipboard::set', data: { text: 'after' } });
    driver.sendControl({ type: 'screen::resize', data: { width: 800, height: 600 } });
    const spectator = new TestClientPeer(streamer, 5000 + generation, { spectator: true });
    await spectator.connect();
    await spectator.waitFor(() => spectator.notices.some((n) => n.type === 'stream::role'), 5000, 'the role');
    expect(spectator.notices.find((n) => n.type === 'stream::role')!.data).toEqual({ role: 'spectator' });
    spectator.sendControl({ type: 'clipboard::set', data: { text: 'from a spectator' } });
    spectator.sendControl({ type: 'screen::resize', data: { width: 640, height: 480 } });
    await waitUntil(() => clipboards.includes('after') && resizes.length > 0, 5000);
    await new Promise((r) => setTimeout(r, 300));
    expect(clipboards).toEqual(['one two three', 'after']);
    expect(resizes).toEqual(['800x600']);
    expect(streamer.stderrTail()).toMatch(/clipboard text ignored: over 1048576 bytes or \d+ pieces/);
    driver.close();
    spectator.close();
  });

  it('forces an IDR on PLI without a restart, once per interval in a PLI storm, and keeps RTP continuous', async () => {
    const client = new TestClientPeer(streamer, ++generation);
    await client.connect();
    await client.waitFor(() => client.received.video.length > 30, 5000, 'video');
    await new Promise((r) => setTimeout(r, 300)); // past the new peer's keyframe interval
    const before = forced('pli');
    const countBefore = client.received.video.length;
    const t0 = performance.now();
    // A storm: 50 PLIs at once cost one IDR now and at most one deferred after 250 ms.
    for (let i = 0; i < 50; i++) expect(client.sendPli()).toBe(true);
    await client.waitFor(() => client.received.video.slice(countBefore).some((p) => isH264KeyframeStart(payloadOf(p))), 3000, 'the IDR');
    const idrAt = client.received.video.slice(countBefore).find((p) => isH264KeyframeStart(payloadOf(p)))!.at;
    await new Promise((r) => setTimeout(r, 600));
    expect(forced('pli') - before).toBeGreaterThanOrEqual(1);
    expect(forced('pli') - before).toBeLessThanOrEqual(2);
    console.log(`PLI -> IDR on the wire ${(idrAt - t0).toFixed(0)} ms`);
    // Sequence numbers and RTP time continue: nothing restarted.
    await client.waitFor(() => client.received.video.slice(countBefore + 1).some((p) => isH264KeyframeStart(payloadOf(p))), 5000, 'the new IDR');
    await client.waitFor(() => client.received.video.length > countBefore + 40, 5000, 'more video');
    const video = client.received.video;
    for (let i = 1; i < video.length; i++) {
      expect(video[i].header.sequence).toBe((video[i - 1].header.sequence + 1) & 0xffff);
      const dt = (video[i].header.timestamp - video[i - 1].header.timestamp) | 0;
      expect(dt).toBeGreaterThanOrEqual(0);
      expect(dt).toBeLessThan(90_000);
    }
    client.close();
  });

  it('retransmits a lost packet on NACK (through a lossy relay)', async () => {
    const relay = await LossyRelay.open();
    let n = 0;
    relay.drop = () => ++n > 20 && n % 25 === 0 && n < 200;
    const client = new TestClientPeer(streamer, ++generation, {
      // The instance can reach us only through the relay (it learns it from our checks).
      noCandidates: true,
      // Our candidates are trickled after the answer (none in the offer): point them at the relay.
      rewriteCandidate: (candidate) => {
        const m = / 127\.0\.0\.1 (\d+) typ host/.exec(candidate);
        if (!m) return candidate;
        relay.target = { address: '127.0.0.1', port: Number(m[1]) };
        relay.dropSsrc = client.offeredSsrc('video')!;
        return candidate.replace(m[0], ` 127.0.0.1 ${relay.port} typ host`);
      },
    });
    let lastNackFor = -1;
    // A receiver NACKs the gaps it sees.
    const timer = setInterval(() => {
      const seqs = client.received.video.map((p) => p.header.sequence);
      const have = new Set(seqs);
      const missing: number[] = [];
      for (let i = 1; i < seqs.length; i++) {
        const gap = (seqs[i] - seqs[i - 1]) & 0xffff;
        if (gap > 1 && gap < 50) for (let k = 1; k < gap; k++) if (!have.has((seqs[i - 1] + k) & 0xffff)) missing.push((seqs[i - 1] + k) & 0xffff);
      }
      if (missing.length && missing[missing.length - 1] !== lastNackFor) {
        lastNackFor = missing[missing.length - 1];
        client.sendNack(missing);
      }
    }, 20);
    try {
      await client.connect();
      await client.waitFor(() => relay.dropped.size >= 4, 10_000, 'four dropped packets');
      await client.waitFor(() => [...relay.dropped].every((s) => client.received.video.some((p) => p.header.sequence === s)), 5000, 'retransmissions');
      for (const s of relay.dropped) {
        const copies = client.received.video.filter((x) => x.header.sequence === s);
        expect(copies).toHaveLength(1);
        expect(copies[0].header.ssrc).toBe(client.offeredSsrc('video'));
        expect(copies[0].header.payloadType).toBe(96);
      }
    } finally {
      clearInterval(timer);
      client.close();
      relay.close();
    }
  });

  it('reports the client leaving: peer connection closed, and stream::disconnect', async () => {
    const a = new TestClientPeer(streamer, ++generation);
    await a.connect();
    const ga = generation;
    // Our side connects a moment after the client's may (the last SCTP handshake packet): a
    // client leaving before then is a peer that never connected, reported failed.
    await waitUntil(() => states.some(([g, s]) => g === ga && s === 'connected'), 5000);
    a.close();
    // Seen within ms on a quiet machine; two clean-clone CI runs on a busy one missed 5 s.
    const left = (g: number, how: string) =>
      waitUntil(() => states.some(([sg, s]) => sg === g && s === 'disconnected'), 15_000).catch((e: Error) => {
        throw new Error(`${e.message}: generation ${g} (${how}) was not reported disconnected; states ${JSON.stringify(states)}`);
      });
    await left(ga, 'peer connection closed');

    const b = new TestClientPeer(streamer, ++generation);
    await b.connect();
    const gb = generation;
    await b.waitFor(() => b.control.isOpen(), 5000, 'control open');
    b.sendControl({ type: 'stream::disconnect', data: {} });
    await left(gb, 'stream::disconnect');
    await b.waitFor(() => b.states.includes('closed') || b.states.includes('disconnected'), 5000, 'client sees the close');
    b.close();
  });

  it('replaces the peer when a new generation joins: the old one is closed, the new one streams', async () => {
    const first = new TestClientPeer(streamer, ++generation);
    await first.connect();
    const g1 = generation;
    await first.waitFor(() => first.received.video.length > 5, 5000, 'first client video');
    // The closing notice goes on the control channel: the test waits until our side has it open
    // (a clean-clone run joined the second peer 1 ms after the first connected, before that).
    await waitUntil(() => streamer.stderrTail().includes(`g${g1}: client data channel "control" open`), 5000);
    const second = new TestClientPeer(streamer, ++generation);
    const t0 = performance.now();
    await second.connect();
    const joinMs = performance.now() - t0;
    await first.waitFor(() => first.states.includes('closed') || first.states.includes('disconnected'), 5000, 'old peer closed');
    await waitUntil(() => states.some(([g, st]) => g === generation && st === 'connected'), 2000);
    expect(states).toContainEqual([g1, 'disconnected']);
    // It was told why before its channel closed: a takeover, not the instance going away.
    await first.waitFor(() => first.notices.some((n) => n.type === 'stream::closing'), 2000, 'the closing notice');
    expect(first.notices).toContainEqual({ type: 'stream::closing', data: { reason: 'replaced' } });
    expect(second.notices.filter((n) => n.type === 'stream::closing')).toEqual([]);
    await second.waitFor(() => second.received.video.length > 10, 5000, 'second client video');
    expect(isH264KeyframeStart(payloadOf(second.received.video[0]))).toBe(true);
    // A stale message of the old generation changes nothing.
    first.send({ type: 'discover' });
    await new Promise((r) => setTimeout(r, 200));
    expect(first.fromInstance.filter((m) => m.type === 'resp:discover')).toHaveLength(1);
    expect(second.states).not.toContain('closed');
    console.log(`second join: discover -> connected ${joinMs.toFixed(0)} ms`);
    first.close();
    second.close();
  });

  it('feeds one encoder to several peers: a spectator gets its IDR, the driver sees only that keyframe, spectator input is ignored', async () => {
    const driver = new TestClientPeer(streamer, ++generation);
    await driver.connect();
    await driver.waitFor(() => driver.received.video.length > 30, 5000, 'driver video');
    await new Promise((r) => setTimeout(r, 300));
    const keyframeTimestamps = (c: TestClientPeer) => new Set(c.received.video.filter((p) => isH264KeyframeStart(payloadOf(p))).map((p) => p.header.timestamp));
    const driverKeyframesBefore = keyframeTimestamps(driver).size;
    const driverCountBefore = driver.received.video.length;
    const inputsBefore = inputs.length;

    const spectators = [new TestClientPeer(streamer, generation + 100, { spectator: true }), new TestClientPeer(streamer, generation + 101, { spectator: true })];
    for (const s of spectators) await s.connect();
    for (const s of spectators) {
      await s.waitFor(() => s.received.video.length > 10, 5000, 'spectator video');
      expect(isH264KeyframeStart(payloadOf(s.received.video[0]))).toBe(true);
      // Same encoder: the spectator's first keyframe is one the driver received too.
      expect(keyframeTimestamps(driver).has(s.received.video[0].header.timestamp)).toBe(true);
    }
    // The driver was not replaced, and saw at most one extra keyframe per spectator.
    expect(driver.states).not.toContain('closed');
    expect(keyframeTimestamps(driver).size - driverKeyframesBefore).toBeLessThanOrEqual(2);
    await driver.waitFor(() => driver.received.video.length > driverCountBefore + 30, 5000, 'driver video goes on');
    await spectators[0].waitFor(() => spectators[0].control.isOpen(), 5000, 'spectator control');
    spectators[0].sendControl({ type: 'input::key', data: { code: 30, pressed: true } });
    await new Promise((r) => setTimeout(r, 200));
    expect(inputs.length).toBe(inputsBefore);
    for (const s of spectators) s.close();
    driver.close();
  });

  it('keeps streaming to the others when a peer leaves in the middle of a keyframe', async () => {
    const driver = new TestClientPeer(streamer, ++generation);
    await driver.connect();
    await driver.waitFor(() => driver.received.video.length > 20, 5000, 'driver video');
    const leaver = new TestClientPeer(streamer, generation + 200, { spectator: true });
    await leaver.connect();
    await leaver.waitFor(() => leaver.received.video.length > 5, 5000, 'spectator video');
    await new Promise((r) => setTimeout(r, 300));
    // A PLI forces an IDR on the next frame; the spectator goes while it is being sent.
    leaver.sendPli();
    await new Promise((r) => setTimeout(r, 30));
    leaver.close();
    const count = driver.received.video.length;
    await driver.waitFor(() => driver.received.video.length > count + 30, 5000, 'driver video goes on');
    expect(streamer.alive).toBe(true);
    driver.close();
  });

  it('queues candidates that come before the answer', async () => {
    const client = new TestClientPeer(streamer, ++generation, { candidatesBeforeAnswerMs: 150 });
    await client.connect();
    expect(client.answerSdp).not.toMatch(/a=candidate/);
    await waitUntil(() => /g\d+: answer applied .* then \d+ queued candidate/.test(streamer.stderrTail()), 2000);
    client.close();
  });

  it("sends its candidates with the answer's, after the client's first trickled one, or 30 ms after an answer without any", async () => {
    const sent = (g: number) => new RegExp(`g${g}: our candidates sent (.*) \\(\\d+ ms after settings\\)`).exec(streamer.stderrTail())?.[1];
    for (const [opts, when] of [
      [{}, 'with the answer'],
      [{ trickle: true }, "after the client's first"],
      [{ noCandidates: true }, "no candidate of the client's within 30 ms"],
    ] as const) {
      const client = new TestClientPeer(streamer, ++generation, opts);
      await client.connect();
      expect(sent(generation)).toBe(when);
      client.close();
    }
  });

  it('answers a garbage SDP answer with an error message and survives', async () => {
    const client = new TestClientPeer(streamer, ++generation);
    client.send({ type: 'candidate', candidate: Buffer.from('candidate:1 1 UDP 1 127.0.0.1 9 typ host').toString('base64'), sdpMid: '0', sdpMLineIndex: 0 });
    client.send({ type: 'discover' });
    await client.next('resp:discover');
    client.send({ type: 'answer', sdp: Buffer.from('v=0\r\n').toString('base64') });
    expect(await client.next('error')).toEqual({ type: 'error', message: 'answer before any offer' });
    client.fromInstance.length = 0;
    client.send({ type: 'settings' });
    await client.next('offer');
    client.send({ type: 'answer', sdp: Buffer.from('v=0\r\nm=video 9 RTP/AVP 0\r\nthis is not sdp\r\n').toString('base64') });
    const error = await client.next('error');
    expect(error.type === 'error' && error.message).toMatch(/answer/);
    client.send({ type: 'answer', sdp: Buffer.from('total garbage').toString('base64') });
    await new Promise((r) => setTimeout(r, 200));
    expect(streamer.alive).toBe(true);
    client.close();
    // ... and the next client streams normally.
    const next = new TestClientPeer(streamer, ++generation);
    await next.connect();
    await next.waitFor(() => next.received.video.length > 5, 5000, 'video after the bad client');
    next.close();
  });
  // Last: it stops the shared streamer.
  it('stops cleanly (exit code 0, no crash in the native library) with a client connected', async () => {
    const client = new TestClientPeer(streamer, ++generation);
    await client.connect();
    await client.waitFor(() => client.received.video.length > 5, 5000, 'video');
    await waitUntil(() => states.some(([g, st]) => g === generation && st === 'connected'), 2000);
    await streamer.stop();
    expect(await streamer.exited).toEqual({ code: 0, signal: null });
    await client.waitFor(() => client.states.includes('closed') || client.states.includes('disconnected'), 5000, 'the client sees the close');
    // Told why first: the instance is going away (a client may join again once it is back).
    expect(client.notices).toContainEqual({ type: 'stream::closing', data: { reason: 'stopping' } });
    client.close();
  });
});

describe('streamer process: a client that never answers, a source that stops', () => {
  let stream: TestStream;
  const states: Array<[number, string, string | undefined]> = [];
  const fatal: string[] = [];

  beforeAll(async () => {
    stream = await startTestStream({ connectTimeoutMs: 2500, sourceStallMs: 1500 });
    stream.streamer.on('client-state', (g, s, reason) => states.push([g, s, reason]));
    stream.streamer.on('fatal', (reason) => fatal.push(reason));
  });

  afterAll(async () => {
    closeAllTestClients();
    if (stream.frameSource.pid) process.kill(stream.frameSource.pid, 'SIGCONT');
    await stream?.stop();
    cleanup();
  });

  it('ends a peer whose client never answers, telling the client and the session why', async () => {
    const client = new TestClientPeer(stream.streamer, 1);
    client.send({ type: 'discover' });
    client.send({ type: 'settings', api_version: 2, enable_video: true, enable_speaker: true });
    await client.next('offer');
    const error = await client.next('error', 5000);
    expect(error).toEqual({ type: 'error', message: 'not connected within 2500 ms' });
    await waitUntil(() => states.some(([g, s, r]) => g === 1 && s === 'failed' && r === 'not connected within 2500 ms'), 2000);
    // The next client streams.
    const next = new TestClientPeer(stream.streamer, 2);
    await next.connect();
    await next.waitFor(() => next.received.video.length > 5, 5000, 'video of the next client');
  });

  it('fails the stream with a reason when its source stops sending frames', async () => {
    // Someone must be watching: a source nobody reads is not expected to send.
    const viewer = new TestClientPeer(stream.streamer, 3);
    await viewer.connect();
    await viewer.waitFor(() => viewer.received.video.length > 5, 5000, 'video');
    process.kill(stream.frameSource.pid!, 'SIGSTOP');
    await waitUntil(() => /the source has sent no frame for \d+ ms/.test(stream.streamer.stderrTail()), 3000);
    await waitUntil(() => fatal.length > 0, 5000);
    expect(fatal[0]).toMatch(/^the source sent no frame for \d+ ms$/);
    await new Promise((r) => setTimeout(r, 500));
    expect(fatal).toHaveLength(1); // once, however long it stays silent
  });
});
