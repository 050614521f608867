/**
 * StreamerProcess lifecycle (start, failure to start, stop, the child's exit paths) against a
 * real frame source, and the checks of its configuration (parseStreamerConfig).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFrameSource, startTestStream, type TestFrameSource, type TestStream } from '../../../test/support/media-process';
import { isAlive } from '../../../test/support/processes';
import { sendConfig, whenLoaded } from '../supervisor/child-config';
import { StreamerProcess, streamerCommand } from './streamer-process';
import { parseInbound, parseStreamerConfig, WARM_ENCODER_ENV, type StreamerConfig } from './streamer.messages';
import { childEnv } from '../supervisor/child-env';
import { waitUntil } from '../../../test/support/wait';

jest.setTimeout(30_000);

/** A well-formed config (its sockets need not exist for the parser). */
function validConfig(): StreamerConfig {
  return {
    width: 320,
    height: 240,
    fps: 30,
    source: { kind: 'test-pattern', videoSocket: '/tmp/none/video.sock', audioSocket: '/tmp/none/audio.sock' },
    video: { encoder: 'libx264', gop: 600, minKbps: 300, maxKbps: 1500, startKbps: 1000 },
    audio: { bitrateKbps: 64, sampleRate: 48000, channels: 2 },
    iceServers: [],
    bindAddress: '127.0.0.1',
  };
}

/** Live child processes of this process that run the streamer entry. */
function liveStreamerChildren(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (!readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('streamer.process')) continue;
      if (isAlive(Number(name))) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

describe('parseInbound (what the runtime sends the streamer)', () => {
  it('keeps well-formed messages, with a spectator flag only when it is true', () => {
    const discover = { type: 'discover' };
    expect(parseInbound({ kind: 'signal', generation: 3, message: discover })).toEqual({ kind: 'signal', generation: 3, message: discover, spectator: false });
    expect(parseInbound({ kind: 'signal', generation: 3, message: discover, spectator: true })).toMatchObject({ spectator: true });
    expect(parseInbound({ kind: 'signal', generation: 3, message: discover, spectator: 'yes' })).toMatchObject({ spectator: false });
    expect(parseInbound({ kind: 'control', message: { type: 'show-ime' } })).toEqual({ kind: 'control', message: { type: 'show-ime', data: {} } });
    expect(parseInbound({ kind: 'stop', extra: 1 })).toEqual({ kind: 'stop' });
  });

  it.each<[string, unknown]>([
    ['not an object', 'stop'],
    ['no kind', { generation: 1 }],
    ['an unknown kind', { kind: 'reboot' }],
    ['a signal with a string generation', { kind: 'signal', generation: '1', message: { type: 'discover' } }],
    ['a signal with a fractional generation', { kind: 'signal', generation: 1.5, message: { type: 'discover' } }],
    ['a signal without a message type', { kind: 'signal', generation: 1, message: {} }],
    // Channel bytes never cross IPC: the media process joins them to the application's sockets.
    ['channel data', { kind: 'data', channel: 'chat', data: 'aGk=' }],
    ['control without a message', { kind: 'control' }],
    ['control without a type', { kind: 'control', message: { data: {} } }],
    ['a source size of 0x0', { kind: 'source-size', width: 0, height: 0 }],
    ['a source size in strings', { kind: 'source-size', width: '800', height: '600' }],
    ['a config that is not an object', { kind: 'config', config: 'x' }],
  ])('drops %s', (_what, message) => {
    expect(parseInbound(message)).toBeNull();
  });
});

describe('parseStreamerConfig', () => {
  type Mutate = (c: Record<string, unknown>) => void;
  const bad = (mutate: Mutate): (() => StreamerConfig) => {
    const c = validConfig() as unknown as Record<string, unknown>;
    mutate(c);
    return () => parseStreamerConfig(c);
  };
  const source = (c: Record<string, unknown>) => c.source as Record<string, unknown>;
  const video = (c: Record<string, unknown>) => c.video as Record<string, unknown>;
  const audio = (c: Record<string, unknown>) => c.audio as Record<string, unknown>;
  const x11 = { kind: 'x11', display: ':12', pulseServer: null, pulseSource: 'app.monitor' };

  it('accepts a valid test-pattern or x11 config, from an object or JSON, filling iceServers', () => {
    expect(parseStreamerConfig(validConfig())).toEqual(validConfig());
    expect(parseStreamerConfig(JSON.stringify(validConfig()))).toEqual(validConfig());
    const { iceServers: _omitted, ...noIce } = validConfig();
    expect(parseStreamerConfig(noIce).iceServers).toEqual([]);
    expect(parseStreamerConfig({ ...validConfig(), source: x11 }).source).toEqual(x11);
    expect(parseStreamerConfig({ ...validConfig(), source: { ...x11, pulseServer: 'unix:/tmp/pulse.sock' } }).source.kind).toBe('x11');
  });

  it.each<[string, Mutate, RegExp]>([
    ['not an object', (c) => (c.source = 'video.sock'), /config\.source must be an object/],
    ['an unknown kind', (c) => (source(c).kind = 'webcam'), /config\.source\.kind must be "test-pattern" or "x11"/],
    ['no video socket', (c) => delete source(c).videoSocket, /config\.source needs videoSocket and audioSocket/],
    ['an empty audio socket', (c) => (source(c).audioSocket = ''), /config\.source needs videoSocket and audioSocket/],
    ['an x11 display that is not ":N"', (c) => (c.source = { ...x11, display: 'localhost:0' }), /config\.source\.display must be an X display/],
    ['an x11 pulseServer that is not a string', (c) => (c.source = { ...x11, pulseServer: 5 }), /config\.source\.pulseServer must be a string or null/],
    ['an x11 source without pulseSource', (c) => (c.source = { ...x11, pulseSource: undefined }), /config\.source\.pulseSource must be a source name/],
  ])('rejects a source with %s, naming the field', (_what, mutate, message) => {
    expect(bad(mutate)).toThrow(message);
  });

  it.each<[string, Mutate, RegExp]>([
    ['missing', (c) => delete c.video, /config\.video must be an object/],
    ['an encoder name that does not exist', (c) => (video(c).encoder = 'h265_magic'), /config\.video\.encoder must be one of auto, libx264, h264_nvenc, h264_vaapi, h264_qsv/],
    ['no encoder', (c) => delete video(c).encoder, /config\.video\.encoder must be one of/],
    ['gop 0', (c) => (video(c).gop = 0), /config\.video\.gop must be a positive integer/],
    ['a fractional startKbps', (c) => (video(c).startKbps = 1.5), /config\.video\.startKbps must be a positive integer/],
    ['a string maxKbps', (c) => (video(c).maxKbps = '1500'), /config\.video\.maxKbps must be a positive integer/],
    ['minKbps above maxKbps', (c) => (video(c).minKbps = 2000), /config\.video\.minKbps must not exceed maxKbps/],
    ['an unknown degradation', (c) => (video(c).degradation = 'bitrate-first'), /config\.video\.degradation must be "resolution-first" or "framerate-first"/],
  ])('rejects video that is %s, naming the field', (_what, mutate, message) => {
    expect(bad(mutate)).toThrow(message);
  });

  it.each<[string, Mutate]>([
    ['missing', (c) => delete c.audio],
    ['at 44.1 kHz', (c) => (audio(c).sampleRate = 44100)],
    ['with 6 channels', (c) => (audio(c).channels = 6)],
    ['without a bitrate', (c) => delete audio(c).bitrateKbps],
  ])('rejects audio %s, naming the field', (_what, mutate) => {
    expect(bad(mutate)).toThrow(/config\.audio must be \{bitrateKbps/);
  });

  it.each<[string, Mutate, RegExp]>([
    ['a zero width', (c) => (c.width = 0), /config\.width must be a positive integer/],
    ['a fractional fps', (c) => (c.fps = 29.97), /config\.fps must be a positive integer/],
    ['an http ICE server', (c) => (c.iceServers = ['http://example.invalid']), /config\.iceServers must be a list of stun:/],
    ['a reversed port range', (c) => (c.portRange = [50010, 50000]), /config\.portRange must be \[first, last\]/],
    ['an unknown DTLS setup', (c) => (c.dtlsSetup = 'passive'), /config\.dtlsSetup must be "actpass" or "active"/],
    ['a port range of one port', (c) => (c.portRange = [50000]), /config\.portRange must be \[first, last\]/],
    ['a port beyond 65535', (c) => (c.portRange = [50000, 70000]), /config\.portRange must be \[first, last\]/],
    ['ICE servers that are not a list', (c) => (c.iceServers = 'stun:127.0.0.1:3478'), /config\.iceServers must be a list of stun:/],
    ['an empty bind address', (c) => (c.bindAddress = ''), /config\.bindAddress must be a non-empty string/],
    ['a fractional connect timeout', (c) => (c.connectTimeoutMs = 1.5), /config\.connectTimeoutMs must be a positive integer/],
    ['a zero source-stall limit', (c) => (c.sourceStallMs = 0), /config\.sourceStallMs must be a positive integer/],
    ['a negative NACK buffer', (c) => (c.nackBufferPackets = -1), /config\.nackBufferPackets must be a positive integer/],
  ])('rejects %s, naming the field', (_what, mutate, message) => {
    expect(bad(mutate)).toThrow(message);
  });

  it('rejects what is not a JSON object', () => {
    expect(() => parseStreamerConfig('[1, 2]')).toThrow(/streamer config must be a JSON object/);
    expect(() => parseStreamerConfig(null)).toThrow(/streamer config must be a JSON object/);
  });
});

describe('StreamerProcess', () => {
  let stream: TestStream;

  beforeAll(async () => {
    stream = await startTestStream();
  });

  afterAll(async () => {
    await stream?.stop();
  });

  it('starts on a frame source (own process group, libx264) and answers signalling', async () => {
    const sp = stream.streamer;
    expect(sp.pid).toBeGreaterThan(0);
    expect(sp.child.pid).toBe(sp.pid);
    expect(sp.alive).toBe(true);
    // Detached: it leads its own process group, which the runtime signals as a whole.
    expect(() => process.kill(-sp.pid, 0)).not.toThrow();
    expect(sp.encoderName).toBe('libx264');
    expect(sp.stderrTail()).toMatch(/ready: test-pattern 320x240@30, libx264 300-1500 kb\/s/);
    const signals: unknown[] = [];
    const onSignal = (g: number, m: unknown) => signals.push([g, m]);
    sp.on('signal', onSignal);
    sp.signal(3, { type: 'discover' });
    await waitUntil(() => signals.length > 0, 5000);
    sp.off('signal', onSignal);
    expect(signals).toEqual([[3, { type: 'resp:discover', max_api_version: 2, fps: 30, capabilities: [] }]]);
  });

  it('survives malformed IPC messages and answers bad signalling with errors', async () => {
    const sp = stream.streamer;
    const messages: unknown[] = [];
    const onSignal = (g: number, m: unknown) => g === 10 && messages.push(m);
    sp.on('signal', onSignal);
    for (const m of [null, 42, 'x', { kind: 'nope' }, { kind: 'signal' }, { kind: 'signal', generation: 1, message: {} }, { kind: 'data', channel: 1 }]) {
      sp.child.send(m as never);
    }
    // A newer generation than the previous test's (older ones are ignored as stale).
    sp.signal(10, { type: 'answer', sdp: 'AAAA' });
    sp.signal(10, { type: 'bogus' } as never);
    sp.signal(10, { type: 'settings', enable_video: false, enable_speaker: false });
    await waitUntil(() => messages.some((m) => (m as { type: string }).type === 'offer'), 5000);
    sp.off('signal', onSignal);
    expect(sp.alive).toBe(true);
    expect(messages).toContainEqual({ type: 'error', message: 'answer before any offer' });
    expect(messages).toContainEqual({ type: 'error', message: 'unexpected message type "bogus"' });
    // Even without media there is an offer: the application m-line alone.
    const offer = messages.find((m) => (m as { type: string }).type === 'offer') as { sdp: string };
    const sdp = Buffer.from(offer.sdp, 'base64').toString('utf8');
    expect(sdp).toMatch(/^m=application /m);
    expect(sdp).not.toMatch(/^m=(video|audio) /m);
    expect(sp.stderrTail()).toMatch(/ignoring a malformed IPC message/);
  });

  it('warms up the encoder its environment names while it loads, quietly: the instance\'s own open still says what it chose', async () => {
    // As a warm spare runs: `auto` probed and libx264 opened before it says it has loaded.
    const warm = await startTestStream({ video: { encoder: 'auto', gop: 600, minKbps: 300, maxKbps: 1500, startKbps: 1000 } }, { env: childEnv({ [WARM_ENCODER_ENV]: 'auto' }) });
    try {
      expect(warm.streamer.encoderName).toBe('libx264');
      expect(warm.streamer.stderrTail()).toMatch(/video encoder: no hardware encoder \(h264_nvenc: .*\); using libx264/);
    } finally {
      await warm.stop();
    }
    // A name that cannot be opened here is the instance's to report, not the warm-up's.
    const named = await startTestStream({}, { env: childEnv({ [WARM_ENCODER_ENV]: 'h264_nvenc' }) });
    try {
      expect(named.streamer.encoderName).toBe('libx264');
      expect(named.streamer.stderrTail()).not.toMatch(/nvenc|error/i);
    } finally {
      await named.stop();
    }
  });

  it('connects to its frame source once it listens, when configured before it starts (as the runtime does)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ss-late-'));
    const { command, args, env } = streamerCommand();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
    const streamer = StreamerProcess.attach(child);
    let source: TestFrameSource | null = null;
    try {
      await whenLoaded(child);
      // `auto` logs its choice as it opens the encoder, just before it looks for the sockets.
      const video = { ...stream.config.video, encoder: 'auto' as const };
      sendConfig(child, { ...stream.config, video, source: { kind: 'test-pattern', videoSocket: join(dir, 'video.sock'), audioSocket: join(dir, 'audio.sock') } });
      await waitUntil(() => /video encoder: /.test(streamer.stderrTail()), 10_000);
      source = await startFrameSource(stream.config, dir);
      await streamer.ready;
      expect(streamer.encoderName).toBe('libx264');
      expect(streamer.alive).toBe(true);
    } finally {
      await streamer.stop();
      await source?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects, leaving no process, when the source sockets do not exist', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ss-nosock-'));
    try {
      const c: StreamerConfig = { ...stream.config, source: { kind: 'test-pattern', videoSocket: join(dir, 'video.sock'), audioSocket: join(dir, 'audio.sock') } };
      await expect(StreamerProcess.start(c)).rejects.toThrow(
        new RegExp(`exited \\(code 1\\) before it was ready: .*cannot start: could not connect to ${escape(join(dir, 'video.sock'))}: .*ENOENT`, 's'),
      );
      expect(liveStreamerChildren()).toEqual([stream.streamer.pid]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects, leaving no process, an encoder name that does not exist', async () => {
    const c = { ...stream.config, video: { ...stream.config.video, encoder: 'h265_magic' } } as unknown as StreamerConfig;
    await expect(StreamerProcess.start(c)).rejects.toThrow(/exited \(code 1\) .*config\.video\.encoder must be one of auto, libx264/s);
    expect(liveStreamerChildren()).toEqual([stream.streamer.pid]);
  });

  it('rejects a bad config with the reason', async () => {
    const c = { ...stream.config, audio: { ...stream.config.audio, sampleRate: 44100 } };
    await expect(StreamerProcess.start(c)).rejects.toThrow(/config\.audio must be/);
    expect(liveStreamerChildren()).toEqual([stream.streamer.pid]);
  });

  it('exits naming the problem when its first message is not a configuration', async () => {
    const cmd = streamerCommand();
    const child = spawn(cmd.command, cmd.args, { env: cmd.env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
    const sp = StreamerProcess.attach(child);
    await whenLoaded(child);
    child.send({ kind: 'signal', generation: 1, message: { type: 'discover' } });
    expect(await sp.exited).toEqual({ code: 1, signal: null });
    expect(sp.stderrTail()).toMatch(/the first IPC message must be \{kind:"config"/);
  });

  it('stops with exit code 0', async () => {
    const sp = stream.streamer;
    await sp.stop();
    expect(await sp.exited).toEqual({ code: 0, signal: null });
    expect(sp.alive).toBe(false);
    expect(isAlive(sp.pid)).toBe(false);
    expect(sp.stderrTail()).toMatch(/exiting: asked to stop/);
  });

  // After the shared streamer stopped: this one takes over the frame source's sockets.
  it('says it has loaded, takes its config from the first IPC message, and exits when the IPC channel closes', async () => {
    const cmd = streamerCommand();
    const child = spawn(cmd.command, cmd.args, { env: cmd.env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
    const sp = StreamerProcess.attach(child);
    await whenLoaded(child);
    // Loaded and waiting: a warm spare can stay like this for as long as the node needs.
    await new Promise((r) => setTimeout(r, 200));
    expect(sp.alive).toBe(true);
    sendConfig(child, stream.config);
    await sp.ready;
    expect(sp.encoderName).toBe('libx264');
    child.disconnect();
    expect(await sp.exited).toEqual({ code: 0, signal: null });
    expect(sp.stderrTail()).toMatch(/exiting: the IPC channel closed/);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
