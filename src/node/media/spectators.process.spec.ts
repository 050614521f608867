/**
 * The media process's bookkeeping of spectators and of what a driver asks, against hostile
 * clients: spectators that never finish their exchange, late messages, clipboard pieces that
 * never end, a channel name the application has blocked with a directory.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup } from 'node-datachannel';
import { closeAllTestClients, TestClientPeer } from '../../../test/support/streamer-client';
import { startTestStream, type TestStream } from '../../../test/support/media-process';
import { waitUntil } from '../../../test/support/wait';
import { MAX_SPECTATORS } from './streamer';

jest.setTimeout(30_000);

describe('spectators and driver requests (media process)', () => {
  let stream: TestStream;
  let generation = 0;

  beforeAll(async () => {
    // Peers that do not connect within 2 s are given up (and spectators' slots with them).
    stream = await startTestStream({ connectTimeoutMs: 2000 });
  });
  afterAll(async () => {
    closeAllTestClients();
    await stream?.stop();
    cleanup();
  });

  it('frees the slots of spectators that never finish their exchange, and makes none for a late message', async () => {
    const errors: string[] = [];
    stream.streamer.on('signal', (_g, m, spectator) => spectator && m.type === 'error' && errors.push(m.message));
    // More than the media process takes at once: each says discover and goes away.
    for (let i = 0; i < MAX_SPECTATORS + 4; i++) stream.streamer.signal(10_000 + i, { type: 'discover' }, true);
    await waitUntil(() => errors.length === 4, 5000);
    expect(errors[0]).toBe(`at most ${MAX_SPECTATORS} spectators`);
    // A candidate of a spectator nobody knows makes no slot (none to refuse it for either).
    stream.streamer.signal(20_000, { type: 'candidate', candidate: 'Y2FuZGlkYXRl', sdpMid: '0', sdpMLineIndex: 0 }, true);
    await new Promise((r) => setTimeout(r, 300));
    expect(errors).toHaveLength(4);
    // After their connect timeout the slots are free again: a real spectator gets in.
    await new Promise((r) => setTimeout(r, 2500));
    const spectator = new TestClientPeer(stream.streamer, 30_000, { spectator: true });
    await spectator.connect();
    await spectator.waitFor(() => spectator.received.video.length > 10, 5000, 'video');
    spectator.close();
  });

  it("does not receive a spectator's microphone: its audio only sends, while a driver's receives too", async () => {
    const spectator = new TestClientPeer(stream.streamer, 40_000, { spectator: true, settings: { enable_microphone: true } });
    const driver = new TestClientPeer(stream.streamer, ++generation, { settings: { enable_microphone: true } });
    await spectator.connect();
    await driver.connect();
    const audioDirection = (sdp: string) => /^m=audio[\s\S]*?^a=(sendonly|sendrecv|recvonly)\r?$/m.exec(sdp)?.[1];
    expect(audioDirection(spectator.offerSdp)).toBe('sendonly');
    expect(audioDirection(driver.offerSdp)).toBe('sendrecv');
    spectator.close();
    driver.close();
  });

  it('refuses clipboard text that never ends (empty pieces count too), then takes the next one', async () => {
    const clipboards: string[] = [];
    stream.streamer.on('clipboard', (text) => clipboards.push(text));
    const driver = new TestClientPeer(stream.streamer, ++generation);
    await driver.connect();
    await driver.waitFor(() => driver.control.isOpen(), 5000, 'the control channel');
    for (let i = 0; i < 200; i++) driver.sendControl({ type: 'clipboard::set', data: { text: '', more: true } });
    driver.sendControl({ type: 'clipboard::set', data: { text: 'end of the long one' } });
    driver.sendControl({ type: 'clipboard::set', data: { text: 'next' } });
    await waitUntil(() => clipboards.includes('next'), 5000);
    expect(clipboards).toEqual(['next']);
    expect(stream.streamer.stderrTail()).toMatch(/clipboard text ignored: over 1048576 bytes or \d+ pieces/);
    driver.close();
  });

  it('closes a channel whose socket path the application has taken, and goes on', async () => {
    mkdirSync(join(stream.config.dataChannelDir!, 'blocked'));
    const driver = new TestClientPeer(stream.streamer, ++generation, { dataChannels: ['blocked'] });
    await driver.connect();
    await waitUntil(() => /channel blocked: cannot listen/.test(stream.streamer.stderrTail()), 5000);
    await waitUntil(() => !driver.channels.get('blocked')!.isOpen(), 5000);
    expect(stream.streamer.alive).toBe(true);
    driver.close();
  });
});
