/**
 * User-named data channels joined to the application's Unix sockets (PROTOCOL.md §5a), in the
 * real media process: a node-datachannel client plays the browser, a net socket the application.
 */
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { cleanup } from 'node-datachannel';
import { pollUntil } from '../../common/poll';
import { closeAllTestClients, TestClientPeer } from '../../../test/support/streamer-client';
import { startTestStream, type TestStream } from '../../../test/support/media-process';
import { waitUntil } from '../../../test/support/wait';

jest.setTimeout(60_000);

/** The application's end of a channel: what it read, and whether the node closed it. */
class AppEnd {
  readonly socket: Socket;
  received = Buffer.alloc(0);
  ended = false;
  constructor(path: string, { read = true } = {}) {
    this.socket = connect(path);
    if (read) this.socket.on('data', (d: Buffer) => (this.received = Buffer.concat([this.received, d])));
    else this.socket.pause();
    this.socket.on('close', () => (this.ended = true));
    this.socket.on('error', () => undefined);
  }
  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
  }
}

describe('data channels to the application (media process)', () => {
  let stream: TestStream;
  let generation = 0;
  const dir = () => stream.config.dataChannelDir!;
  const socketOf = (name: string) => join(dir(), name);
  const received = (client: TestClientPeer, channel: string) =>
    Buffer.concat(client.channelMessages.filter((m) => m.channel === channel).map((m) => (typeof m.data === 'string' ? Buffer.from(m.data) : m.data)));

  beforeAll(async () => {
    stream = await startTestStream();
  });
  afterAll(async () => {
    closeAllTestClients();
    await stream?.stop();
    cleanup();
  });

  async function driver(channels: string[], settings: string[] = channels): Promise<TestClientPeer> {
    const client = new TestClientPeer(stream.streamer, ++generation, { dataChannels: channels, settings: { data_channels: settings } });
    await client.connect();
    return client;
  }

  it('carries text and binary messages unchanged both ways, cutting what the application writes into messages of at most 64 KiB', async () => {
    const client = await driver(['chat']);
    await waitUntil(() => existsSync(socketOf('chat')), 5000);
    const app = new AppEnd(socketOf('chat'));
    await app.connected();
    const binary = Buffer.alloc(60 * 1024, 0).map((_, i) => (i * 7) & 0xff);
    client.channels.get('chat')!.sendMessage('hello application');
    client.channels.get('chat')!.sendMessageBinary(binary);
    await waitUntil(() => app.received.length === 17 + binary.length, 5000);
    expect(app.received.subarray(0, 17).toString()).toBe('hello application');
    expect(app.received.subarray(17).equals(binary)).toBe(true);

    const reply = Buffer.alloc(200 * 1024).map((_, i) => (i * 13) & 0xff);
    app.socket.write(reply);
    await waitUntil(() => received(client, 'chat').length === reply.length, 5000);
    expect(received(client, 'chat').equals(reply)).toBe(true);
    expect(Math.max(...client.channelMessages.map((m) => m.data.length))).toBeLessThanOrEqual(64 * 1024);
    client.close();
  });

  it('holds what the client sends before the application connects (up to 1 MiB), then drops the rest with one log line', async () => {
    const client = await driver(['early']);
    await pollUntil(() => existsSync(socketOf('early')), 15_000, 'the socket');
    // Six chunks of 256 KiB, each filled with its own number: which arrived is then plain.
    const size = 256 * 1024;
    const chunk = (i: number) => Buffer.alloc(size, i);
    const channel = client.channels.get('early')!;
    // One after another, as the client's SCTP buffer drains: 1.5 MiB at once may not all be taken.
    for (let i = 0; i < 6; i++) {
      await pollUntil(() => channel.bufferedAmount() < 512 * 1024, 15_000, 'room in the client\'s send buffer');
      channel.sendMessageBinary(chunk(i)); // false: buffered, not lost
    }
    // Chunk 4 goes over the 1 MiB: dropped, with the log line.
    await pollUntil(() => stream.streamer.stderrTail().includes('channel early: the application has not connected; dropping'), 15_000, 'the drop log line');
    const app = new AppEnd(socketOf('early'));
    await app.connected();
    await pollUntil(() => app.received.length >= 4 * size, 15_000, '1 MiB at the application');
    await new Promise((r) => setTimeout(r, 300));
    // The held 1 MiB in order; chunk 5 as well only if it arrived after the application connected
    // (on a busy machine it can still be on its way when the log line is read); chunk 4 never.
    expect(app.received.subarray(0, 4 * size).equals(Buffer.concat([0, 1, 2, 3].map(chunk)))).toBe(true);
    expect([4 * size, 5 * size]).toContain(app.received.length);
    if (app.received.length === 5 * size) expect(app.received.subarray(4 * size).equals(chunk(5))).toBe(true);
    expect(stream.streamer.stderrTail().split('channel early: the application has not connected').length - 1).toBe(1);
    client.close();
  });

  it('bounds what waits for an application that never reads, and stays alive', async () => {
    const client = await driver(['stuck']);
    await waitUntil(() => existsSync(socketOf('stuck')), 5000);
    const app = new AppEnd(socketOf('stuck'), { read: false });
    await app.connected();
    const chunk = Buffer.alloc(64 * 1024, 2);
    for (let i = 0; i < 80; i++) client.channels.get('stuck')!.sendMessageBinary(chunk); // 5 MiB
    await waitUntil(() => stream.streamer.stderrTail().includes('channel stuck: the application is not reading; dropping'), 10_000);
    expect(stream.streamer.alive).toBe(true);
    client.close();
  });

  it('closes the channel when the application closes its connection, and the connection and socket when the client closes the channel', async () => {
    const client = await driver(['one', 'two']);
    await waitUntil(() => existsSync(socketOf('one')) && existsSync(socketOf('two')), 5000);
    // Open on the client's side too (its open comes with the node's ack, after the node made the
    // sockets): "no longer open" below must mean closed, not not yet open.
    await waitUntil(() => client.channels.get('one')!.isOpen() && client.channels.get('two')!.isOpen(), 5000);
    const one = new AppEnd(socketOf('one'));
    const two = new AppEnd(socketOf('two'));
    await Promise.all([one.connected(), two.connected()]);
    one.socket.end();
    await waitUntil(() => !client.channels.get('one')!.isOpen(), 5000);
    expect(existsSync(socketOf('one'))).toBe(false);
    client.channels.get('two')!.close();
    await waitUntil(() => two.ended, 5000);
    expect(existsSync(socketOf('two'))).toBe(false);
    client.close();
  });

  it('takes one application connection per channel', async () => {
    const client = await driver(['single']);
    await waitUntil(() => existsSync(socketOf('single')), 5000);
    const first = new AppEnd(socketOf('single'));
    await first.connected();
    const second = new AppEnd(socketOf('single'));
    await waitUntil(() => second.ended, 5000);
    client.channels.get('single')!.sendMessage('to the first');
    await waitUntil(() => first.received.length > 0, 5000);
    expect(first.received.toString()).toBe('to the first');
    expect(first.ended).toBe(false);
    client.close();
  });

  it.each([
    ['a name outside [a-z0-9-]{1,32}', ['Bad_Name'], ['Bad_Name'], /"Bad_Name" is not a channel name/],
    ['a name of 33 characters', ['a'.repeat(33)], ['a'.repeat(33)], /is not a channel name/],
    ['a channel the settings did not announce', ['sneaky'], [], /"sneaky": not announced in settings.data_channels/],
  ])('closes %s, creating no socket', async (_what, channels, settings, logged) => {
    const client = await driver(channels, settings);
    await waitUntil(() => logged.test(stream.streamer.stderrTail()), 5000);
    await waitUntil(() => !client.channels.get(channels[0])!.isOpen(), 5000);
    expect(existsSync(socketOf(channels[0]))).toBe(false);
    expect(stream.streamer.alive).toBe(true);
    client.close();
  });

  it("gives a new driver the channel, closing the old driver's connection; a spectator's channels reach nothing", async () => {
    const first = await driver(['game']);
    await waitUntil(() => existsSync(socketOf('game')), 5000);
    const old = new AppEnd(socketOf('game'));
    await old.connected();
    const second = await driver(['game']);
    await waitUntil(() => old.ended, 5000);
    await waitUntil(() => existsSync(socketOf('game')), 5000);
    const fresh = new AppEnd(socketOf('game'));
    await fresh.connected();
    second.channels.get('game')!.sendMessage('from the new driver');
    await waitUntil(() => fresh.received.length > 0, 5000);
    expect(fresh.received.toString()).toBe('from the new driver');

    const spectator = new TestClientPeer(stream.streamer, ++generation, { spectator: true, dataChannels: ['watch'] });
    await spectator.connect();
    await waitUntil(() => stream.streamer.stderrTail().includes(`closing a spectator's channel "watch"`), 5000);
    await waitUntil(() => !spectator.channels.get('watch')!.isOpen(), 5000);
    expect(existsSync(socketOf('watch'))).toBe(false);
    first.close();
    second.close();
    spectator.close();
  });
});
