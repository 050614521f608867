import type { NodeInstanceStartRequest } from '@streamstack/contracts';
import { execFile, spawn } from 'node:child_process';
import { createSocket, Socket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { resolveFfmpegPath } from './ffmpeg';
import { findOnPath } from '../sources/x11';
import { NodeRuntime, RunningInstanceInfo, RuntimeStatusEvent } from './node-runtime.service';
import { H264Depacketizer, isH264KeyframeStart, parseRtpHeader, RtpHeader } from '../media/rtp';
import { TEXT_LINE, textLayout } from '../sources/test-pattern/pattern-renderer';
import { readTimestampStrip } from '../sources/test-pattern/timestamp-strip';
import { isAlive } from '../../../test/support/processes';

/**
 * Real processes, real ffmpeg, real UDP: the runtime under test is not mocked anywhere.
 * The instances run at 800x600@15 (the timestamp strip needs 768 px).
 */
jest.setTimeout(30_000);

const W = 800;
const H = 600;
const FPS = 15;
const ffmpeg = resolveFfmpegPath();

function request(id: string, overrides: Partial<NodeInstanceStartRequest> = {}): NodeInstanceStartRequest {
  return {
    instance_id: id,
    app: 'pattern',
    app_version: 1,
    kind: 'test-pattern',
    display: { width: W, height: H, fps: FPS },
    encoder: { codec: 'h264', bitrate_kbps: 1500, gop: 30 },
    ...overrides,
  };
}

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Received {
  at: number;
  header: RtpHeader;
  payload: Buffer;
}

/** Binds a port the runtime handed out, the way the streamer will. */
async function listen(port: number): Promise<{ packets: Received[]; socket: Socket; close: () => Promise<void> }> {
  const socket = createSocket('udp4');
  const packets: Received[] = [];
  socket.on('message', (msg) => {
    const header = parseRtpHeader(msg);
    if (header) packets.push({ at: Date.now(), header, payload: msg.subarray(header.payloadOffset, header.payloadEnd) });
  });
  await new Promise<void>((r) => socket.bind(port, '127.0.0.1', () => r()));
  return { packets, socket, close: () => new Promise<void>((r) => socket.close(() => r())) };
}

function decodeGray(annexB: Buffer, w: number, h: number): Promise<Buffer[]> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      ffmpeg,
      ['-hide_banner', '-loglevel', 'error', '-f', 'h264', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'],
      { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 },
      (err, stdout) => {
        if (err) return reject(err);
        const frames: Buffer[] = [];
        for (let at = 0; at + w * h <= stdout.length; at += w * h) frames.push(stdout.subarray(at, at + w * h));
        resolvePromise(frames);
      },
    );
    child.stdin?.end(annexB);
  });
}

/**
 * What a new viewer gets: bind the video port, restart the encoder (so the stream opens with
 * an IDR), receive `count` frames, decode them. Returns each frame with the arrival time of
 * its last packet.
 */
async function grabFrames(runtime: NodeRuntime, info: RunningInstanceInfo, count: number, w = W, h = H) {
  const rx = await listen(info.media.videoPort);
  try {
    await runtime.restartEncoder(info.instance_id);
    await until(`${count} frames`, () => {
      const start = rx.packets.findIndex((p) => isH264KeyframeStart(p.payload));
      return start >= 0 && rx.packets.slice(start).filter((p) => p.header.marker).length >= count;
    });
  } finally {
    await rx.close();
  }
  const start = rx.packets.findIndex((p) => isH264KeyframeStart(p.payload));
  const depacketizer = new H264Depacketizer();
  const chunks: Buffer[] = [];
  const ends: Received[] = [];
  for (const p of rx.packets.slice(start)) {
    chunks.push(depacketizer.push(p.payload));
    if (p.header.marker) ends.push(p);
  }
  const frames = await decodeGray(Buffer.concat(chunks), w, h);
  return frames.slice(0, ends.length).map((luma, i) => ({ luma, arrivedAt: ends[i].at, rtpTimestamp: ends[i].header.timestamp }));
}

/** Mean absolute luma difference over the input line(s) of the text panel. */
function inputRegionDiff(a: Buffer, b: Buffer): number {
  const l = textLayout(W, H);
  const top = l.lineTops[TEXT_LINE.input];
  const bottom = l.lineTops[TEXT_LINE.inputContinued] + l.lineHeight;
  let sum = 0;
  let n = 0;
  for (let y = top; y < bottom; y++) {
    for (let x = 0; x < W; x++) {
      sum += Math.abs(a[y * W + x] - b[y * W + x]);
      n++;
    }
  }
  return sum / n;
}

describe('NodeRuntime (test-pattern, real ffmpeg)', () => {
  let dataDir: string;
  let runtime: NodeRuntime;
  const statuses: RuntimeStatusEvent[] = [];
  const nextStatus = (id: string, status: RuntimeStatusEvent['status']) =>
    until(`${status} of ${id}`, () => statuses.some((s) => s.instance_id === id && s.status === status), 8000).then(
      () => statuses.find((s) => s.instance_id === id && s.status === status)!,
    );

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ss-rt-'));
    runtime = new NodeRuntime({ dataDir });
    runtime.onStatus((ev) => statuses.push(ev));
  });

  afterAll(async () => {
    await runtime.shutdown();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('one running instance', () => {
    let info: RunningInstanceInfo;

    beforeAll(async () => {
      info = await runtime.start(request('main'));
    });

    it('runs the frame source, the encoder and a standby encoder, and reports running', async () => {
      expect(info.pids).toHaveLength(3);
      for (const pid of info.pids) expect(isAlive(pid)).toBe(true);
      expect(runtime.list().map((i) => i.instance_id)).toEqual(['main']);
      expect((await nextStatus('main', 'running')).status).toBe('running');
      const sdp = readFileSync(info.media.sdpFile, 'utf8');
      expect(sdp).toContain(`m=video ${info.media.videoPort} RTP/AVP ${info.media.videoPayloadType}`);
      expect(sdp).toContain(`m=audio ${info.media.audioPort} RTP/AVP ${info.media.audioPayloadType}`);
    });

    it('keeps encoding while nobody listens (ICMP port unreachable), then sends H.264 and Opus RTP at 90 kHz wall-clock time', async () => {
      // Nothing has bound the ports since start(): every datagram so far drew an ICMP error.
      await sleep(1000);
      expect(runtime.list()[0].pids).toEqual(info.pids);
      for (const pid of info.pids) expect(isAlive(pid)).toBe(true);

      const video = await listen(info.media.videoPort);
      const audio = await listen(info.media.audioPort);
      await sleep(2000);
      await video.close();
      await audio.close();

      const v = video.packets;
      expect(v.length).toBeGreaterThan(20);
      expect(new Set(v.map((p) => p.header.payloadType))).toEqual(new Set([info.media.videoPayloadType]));
      expect(new Set(v.map((p) => p.header.ssrc))).toEqual(new Set([info.media.videoSsrc]));
      const frames = v.filter((p) => p.header.marker);
      for (let i = 1; i < frames.length; i++) {
        // Advancing; about one frame interval (6000 ticks at 15 fps) apart.
        const step = (frames[i].header.timestamp - frames[i - 1].header.timestamp) >>> 0;
        expect(step).toBeGreaterThan(0);
        expect(step).toBeLessThan(3 * 6000);
      }
      const first = frames[0];
      const last = frames[frames.length - 1];
      const rtpSeconds = ((last.header.timestamp - first.header.timestamp) >>> 0) / 90_000;
      const wallSeconds = (last.at - first.at) / 1000;
      // Arrival times carry encoding and scheduling jitter; the strip test below is the exact one.
      expect(Math.abs(rtpSeconds - wallSeconds)).toBeLessThan(0.25);
      expect(frames.length).toBeGreaterThanOrEqual(Math.floor(wallSeconds * FPS) - 2);

      const a = audio.packets;
      expect(a.length).toBeGreaterThan(60); // 20 ms Opus frames: ~100 in 2 s
      expect(new Set(a.map((p) => p.header.payloadType))).toEqual(new Set([info.media.audioPayloadType]));
      expect(new Set(a.map((p) => p.header.ssrc))).toEqual(new Set([info.media.audioSsrc]));
      const aSeconds = ((a[a.length - 1].header.timestamp - a[0].header.timestamp) >>> 0) / 48_000;
      expect(Math.abs(aSeconds - (a[a.length - 1].at - a[0].at) / 1000)).toBeLessThan(0.15);
    });

    it('draws a timestamp strip that reads within 2 s of now and matches RTP time, and the input it receives', async () => {
      const before = await grabFrames(runtime, info, 15);
      expect(before.length).toBeGreaterThanOrEqual(15);
      const strips = before.map((f) => readTimestampStrip(f.luma, W));
      const latencies = before.map((f, i) => f.arrivedAt - strips[i]);
      for (const ms of latencies) expect(Math.abs(ms)).toBeLessThan(2000);
      // Capture to last packet received, through a real encoder, on loopback.
      console.log(`timestamp strip -> last RTP packet received: ${latencies.join(', ')} ms`);
      // RTP time is capture time: 90 kHz ticks between frames match the strips' ms. ffmpeg
      // stamps a frame when it reads it, a little after it was drawn, so on a busy machine single
      // frames stray; the typical one must not, and none by more than a few frame intervals.
      const strays = before.slice(1).map((f, i) => Math.abs(((f.rtpTimestamp - before[0].rtpTimestamp) >>> 0) / 90 - (strips[i + 1] - strips[0])));
      strays.sort((x, y) => x - y);
      expect(strays[Math.floor(strays.length / 2)]).toBeLessThan(15);
      expect(strays.at(-1)).toBeLessThan((3 * 1000) / FPS);

      runtime.sendInput('main', { type: 'input::key', data: { code: 30, pressed: true } });
      await sleep(300);
      const after = await grabFrames(runtime, info, 2);

      const noise = inputRegionDiff(before[0].luma, before[before.length - 1].luma);
      const change = inputRegionDiff(before[before.length - 1].luma, after[after.length - 1].luma);
      expect(noise).toBeLessThan(2);
      expect(change).toBeGreaterThan(10 * Math.max(noise, 0.5));
    });

    it('restarts the encoder: a new ffmpeg pid, packets keep flowing, and the first new packet opens an IDR', async () => {
      const rx = await listen(info.media.videoPort);
      try {
        await until('packets', () => rx.packets.length > 10);
        const oldEncoder = runtime.list()[0].pids[1];
        const markAt = rx.packets.length;
        const t0 = Date.now();
        await runtime.restartEncoder('main');
        const restartMs = Date.now() - t0;
        const newEncoder = runtime.list()[0].pids[1];
        expect(newEncoder).not.toBe(oldEncoder);
        expect(isAlive(oldEncoder)).toBe(false);
        expect(isAlive(runtime.list()[0].pids[0])).toBe(true); // the frame source was not touched
        await sleep(500);
        // The new encoder starts a new random sequence: its first packet is the first break.
        const after = rx.packets.slice(markAt);
        let firstNew = -1;
        const all = rx.packets;
        for (let i = Math.max(1, markAt); i < all.length; i++) {
          if (((all[i].header.sequence - all[i - 1].header.sequence) & 0xffff) !== 1) {
            firstNew = i;
            break;
          }
        }
        expect(firstNew).toBeGreaterThanOrEqual(0);
        expect(isH264KeyframeStart(all[firstNew].payload)).toBe(true);
        expect(all[firstNew].header.ssrc).toBe(info.media.videoSsrc);
        expect(after.filter((p) => p.at > t0 + restartMs).length).toBeGreaterThan(5);
        console.log(
          `encoder restart: first packet of the new encoder ${all[firstNew].at - t0} ms after the call, restartEncoder resolved after ${restartMs} ms`,
        );
      } finally {
        await rx.close();
      }
    });

    it('serves logs of both processes', async () => {
      const logs = await runtime.logs('main');
      expect(logs).toContain('==> frame-source.log <==');
      expect(logs).toContain('==> encoder.log <==');
      expect(logs).toContain('encoder connected to video');
    });

    it('stop() leaves no process behind, reports stopped, and is idempotent', async () => {
      const pids = runtime.list()[0].pids;
      await runtime.stop('main');
      for (const pid of pids) expect(isAlive(pid)).toBe(false);
      expect(runtime.list()).toEqual([]);
      expect((await nextStatus('main', 'stopped')).status).toBe('stopped');
      await runtime.stop('main');
      await runtime.stop('never-existed');
      expect(await runtime.logs('main')).toContain('exiting'); // logs outlive the instance
    });
  });

  it.each([
    ['frame-source', 0, /frame-source .*killed by SIGKILL/],
    ['encoder', 1, /encoder \[ffmpeg\] .*killed by SIGKILL/],
  ])('reports error when the %s is SIGKILLed, and reaps the rest', async (name, index, reason) => {
    const id = `kill-${name}`;
    const info = await runtime.start(request(id));
    process.kill(info.pids[index], 'SIGKILL');
    const ev = await nextStatus(id, 'error');
    expect(ev.reason).toMatch(reason);
    for (const pid of info.pids) expect(isAlive(pid)).toBe(false);
    expect(runtime.list().find((i) => i.instance_id === id)).toBeUndefined();
    expect(existsSync(join(dataDir, 'instances', id, `${name}.log`))).toBe(true);
  });

  it('refuses what it cannot run, leaving nothing behind', async () => {
    await expect(runtime.start(request('x', { kind: 'x11' }))).rejects.toThrow(/needs a command/);
    await expect(runtime.start(request('../escape'))).rejects.toThrow(/instance_id/);
    await expect(runtime.start(request('bad', { display: { width: W, height: H, fps: 0 } }))).rejects.toThrow(/fps/);
    const broken = new NodeRuntime({ dataDir, ffmpegPath: '/nonexistent/ffmpeg' });
    await expect(broken.start(request('no-ffmpeg'))).rejects.toThrow(/ffmpeg/);
    expect(broken.list()).toEqual([]);
    expect(() => runtime.sendInput('nope', { type: 'input::key', data: {} })).toThrow(/not found/);
  });

  it('with warm spares, an instance takes the booted frame source and streamer, and spares are booted again', async () => {
    const own = new NodeRuntime({ dataDir: mkdtempSync(join(tmpdir(), 'ss-rt-spares-')) });
    own.onApplicationBootstrap();
    try {
      const spares = own['spares'];
      await until('two spares', () => spares.waiting().length === 2, 10_000);
      const booted = spares.waiting();
      const info = await own.start(request('warm', { session_id: 'warm-session' }));
      for (const { pid } of booted) expect(info.pids).toContain(pid);
      await until('replacements', () => spares.waiting().length === 2, 10_000);
      expect(spares.waiting().map((s) => s.pid)).not.toEqual(expect.arrayContaining(booted.map((s) => s.pid)));
      // The spare's log became the instance's, and a second run of the instance keeps the first's.
      const log = join(own['dataDir'], 'instances', 'warm', 'frame-source.log');
      expect(readFileSync(log, 'utf8')).toMatch(/taking frame-source \(spare\) \(pid \d+\) as frame-source[\s\S]*listening/);
      await own.stop('warm');
      await own.start(request('warm', { session_id: 'warm-session' }));
      expect(readFileSync(log, 'utf8').match(/taking frame-source/g)).toHaveLength(2);
    } finally {
      const spares = own['spares'].waiting();
      await own.shutdown();
      for (const { pid } of spares) expect(isAlive(pid)).toBe(false);
    }
  });

  it('shutdown() stops every instance', async () => {
    const own = new NodeRuntime({ dataDir });
    const a = await own.start(request('sd-a'));
    const b = await own.start(request('sd-b', { display: { width: 320, height: 240, fps: 30 } }));
    expect(new Set([...a.pids, ...b.pids]).size).toBe(6);
    expect(a.media.videoPort).not.toBe(b.media.videoPort);
    await own.shutdown();
    for (const pid of [...a.pids, ...b.pids]) expect(isAlive(pid)).toBe(false);
    await expect(own.start(request('sd-c'))).rejects.toThrow(/shutting down/);
  });

  const x11Tools = ['Xvfb', 'xdotool', 'xev'].every((t) => findOnPath(t));
  (x11Tools ? describe : describe.skip)('x11 (Xvfb, x11grab, xdotool; xev as the application)', () => {
    const XW = 320;
    const XH = 240;
    const x11 = (id: string) => request(id, { kind: 'x11', command: `exec xev -geometry ${XW}x${XH}+0+0`, display: { width: XW, height: XH, fps: 15 } });

    it('streams the display, injects input through XTest, and stops cleanly', async () => {
      const info = await runtime.start(x11('x11-main'));
      expect(info.pids.length).toBeGreaterThanOrEqual(4); // display, [audio], app, input, encoder
      const audio = await listen(info.media.audioPort);
      const frames = await grabFrames(runtime, info, 3, XW, XH);
      await sleep(300);
      await audio.close();
      expect(frames.length).toBeGreaterThanOrEqual(3);
      const luma = frames[frames.length - 1].luma;
      const mean = luma.reduce((a, b) => a + b, 0) / luma.length;
      expect(mean).toBeGreaterThan(128); // xev's white window fills the black root window
      expect(audio.packets.length).toBeGreaterThan(5);
      expect(audio.packets[0].header.payloadType).toBe(info.media.audioPayloadType);

      runtime.sendInput('x11-main', { type: 'input::mouse-move', data: { x: 50, y: 60, rx: 0, ry: 0 } });
      runtime.sendInput('x11-main', { type: 'input::key', data: { code: 30, pressed: true } });
      runtime.sendInput('x11-main', { type: 'input::key', data: { code: 30, pressed: false } });
      await until('xev to see the input', () => /keycode 38 \(keysym 0x61, a\)/.test(readFileSync(join(dataDir, 'instances', 'x11-main', 'app.log'), 'utf8')));
      const logs = await runtime.logs('x11-main');
      expect(logs).toContain('==> app.log <==');
      expect(logs).toMatch(/MotionNotify[\s\S]*root:\(50,60\)/);

      await runtime.stop('x11-main');
      for (const pid of info.pids) expect(isAlive(pid)).toBe(false);
    });

    it('blames the display server when it dies, and reaps the application with it', async () => {
      const info = await runtime.start(x11('x11-kill'));
      process.kill(info.pids[0], 'SIGKILL'); // Xvfb
      const ev = await nextStatus('x11-kill', 'error');
      expect(ev.reason).toMatch(/^display \[Xvfb\] .*killed by SIGKILL/);
      for (const pid of info.pids) expect(isAlive(pid)).toBe(false);
    });
  });

  it('leaves no orphans when the process hosting the runtime is SIGKILLed', async () => {
    const root = resolve(__dirname, '../../..');
    const script = `
      require('ts-node').register({ transpileOnly: true });
      require('tsconfig-paths/register');
      const { NodeRuntime } = require(${JSON.stringify(join(__dirname, 'node-runtime.service.ts'))});
      new NodeRuntime({ dataDir: ${JSON.stringify(dataDir)} })
        .start(${JSON.stringify(request('orphan'))})
        .then((info) => process.stdout.write('PIDS ' + JSON.stringify(info.pids) + '\\n'), (e) => { console.error(e); process.exit(1); });
      setInterval(() => undefined, 1000);`;
    const host = spawn(process.execPath, ['-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const pids = await new Promise<number[]>((resolvePids, reject) => {
      let out = '';
      host.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const line = /^PIDS (.*)$/m.exec(out);
        if (line) resolvePids(JSON.parse(line[1]) as number[]);
      });
      host.once('exit', (code) => reject(new Error(`runtime host exited with ${code}`)));
    });
    expect(pids).toHaveLength(3);
    host.kill('SIGKILL');
    // The frame source sees its IPC channel close; ffmpeg then sees its input end.
    await until('the orphaned processes to exit', () => pids.every((pid) => !isAlive(pid)), 5000);
  });
});
