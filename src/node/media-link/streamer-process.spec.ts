/** StreamerProcess lifecycle: start, failure to start, stop, and the child's exit paths. */
import { spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import { freeUdpPorts } from '../../../test/support/streamer-media';
import { sendConfig, whenLoaded } from '../supervisor/child-config';
import { StreamerProcess, streamerCommand } from './streamer-process';
import type { StreamerConfig } from './streamer.messages';

jest.setTimeout(30_000);

async function config(): Promise<StreamerConfig> {
  const [videoPort, audioPort] = await freeUdpPorts(2);
  return { videoPort, audioPort, videoPayloadType: 96, audioPayloadType: 111, videoSsrc: 1, audioSsrc: 2, fps: 30, width: 640, height: 480, iceServers: [], bindAddress: '127.0.0.1' };
}

describe('StreamerProcess', () => {
  it('starts (ports bound, own process group) and stops with exit code 0', async () => {
    const c = await config();
    const sp = await StreamerProcess.start(c);
    try {
      expect(sp.pid).toBeGreaterThan(0);
      expect(sp.child.pid).toBe(sp.pid);
      // Detached: it leads its own process group, which the runtime signals as a whole.
      expect(() => process.kill(-sp.pid, 0)).not.toThrow();
      const taken = dgram.createSocket('udp4');
      await expect(new Promise((resolve, reject) => taken.once('error', reject).bind(c.videoPort, '127.0.0.1', () => resolve(null)))).rejects.toThrow(/EADDRINUSE/);
      taken.close();
    } finally {
      await sp.stop();
    }
    expect(await sp.exited).toEqual({ code: 0, signal: null });
    expect(sp.alive).toBe(false);
  });

  it('rejects with the streamer output when a port is taken', async () => {
    const c = await config();
    const squatter = dgram.createSocket('udp4');
    await new Promise<void>((r) => squatter.bind(c.audioPort, '127.0.0.1', r));
    try {
      await expect(StreamerProcess.start(c)).rejects.toThrow(new RegExp(`exited \\(code 1\\).*cannot bind UDP 127\\.0\\.0\\.1:${c.audioPort}.*EADDRINUSE`));
    } finally {
      squatter.close();
    }
  });

  it('rejects a bad config with the reason', async () => {
    const c = { ...(await config()), videoPayloadType: 300 };
    await expect(StreamerProcess.start(c)).rejects.toThrow(/videoPayloadType must be an RTP payload type/);
  });

  it('says it has loaded, takes its config from the first IPC message, and exits when the IPC channel closes', async () => {
    const c = await config();
    const cmd = streamerCommand();
    const child = spawn(cmd.command, cmd.args, { env: cmd.env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
    const sp = StreamerProcess.attach(child);
    await whenLoaded(child);
    // Loaded and waiting: a warm spare can stay like this for as long as the node needs.
    await new Promise((r) => setTimeout(r, 200));
    expect(sp.alive).toBe(true);
    sendConfig(child, c);
    await sp.ready;
    const signals: unknown[] = [];
    sp.on('signal', (g, m) => signals.push([g, m]));
    sp.signal(3, { type: 'discover' });
    const deadline = Date.now() + 5000;
    while (signals.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(signals).toEqual([[3, { type: 'resp:discover', max_api_version: 2, fps: 30, capabilities: [] }]]);
    child.disconnect();
    expect(await sp.exited).toEqual({ code: 0, signal: null });
    expect(sp.stderrTail()).toMatch(/exiting: the IPC channel closed/);
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

  it('survives malformed IPC messages', async () => {
    const sp = await StreamerProcess.start(await config());
    try {
      for (const m of [null, 42, 'x', { kind: 'nope' }, { kind: 'signal' }, { kind: 'signal', generation: 1, message: {} }, { kind: 'data', channel: 1 }]) {
        sp.child.send(m as never);
      }
      sp.signal(1, { type: 'answer', sdp: 'AAAA' });
      sp.signal(1, { type: 'bogus' } as never);
      const errors: unknown[] = [];
      sp.on('signal', (_g, m) => errors.push(m));
      sp.signal(1, { type: 'settings', enable_video: false, enable_speaker: false });
      await new Promise((r) => setTimeout(r, 300));
      expect(sp.alive).toBe(true);
      // Even without media there is an offer: the application m-line alone.
      expect(errors).toContainEqual(expect.objectContaining({ type: 'offer' }));
    } finally {
      await sp.stop();
    }
  });
});
