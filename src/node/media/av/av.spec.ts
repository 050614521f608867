/**
 * The node-av layer, exercised in a child process (node-av does not load reliably inside Jest's
 * module registry): av-selftest.ts runs the cases and prints one JSON line each.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../../..');
const script = path.join(__dirname, 'av-selftest.ts');

type Results = Record<string, any>;

function runSelftest(cases: string[], timeoutMs = 120_000): Promise<Results> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', script, ...cases], {
      cwd: root,
      env: {
        ...process.env,
        TS_NODE_SKIP_PROJECT: 'true',
        TS_NODE_COMPILER_OPTIONS: JSON.stringify({ module: 'commonjs', moduleResolution: 'node', target: 'ES2022', esModuleInterop: true }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString('utf8')).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const results: Results = {};
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        const r = JSON.parse(line) as { case: string };
        results[r.case] = r;
      }
      if (code !== 0) return reject(new Error(`av-selftest exited ${signal ?? code}: ${err}`));
      for (const c of cases) {
        const name = c.split('=')[0];
        if (!results[name]) return reject(new Error(`av-selftest printed nothing for ${name}: ${err}`));
        if (results[name].error) return reject(new Error(`av-selftest ${name}: ${results[name].error}`));
      }
      resolve(results);
    });
  });
}

/** Xvfb picks a free display itself (-displayfd) and says which on fd 3. */
function startXvfb(): Promise<{ display: string; proc: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const proc = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '320x240x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    let said = '';
    let err = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`Xvfb did not start: ${err}`));
    }, 10_000);
    proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString('utf8')).slice(-2000)));
    proc.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    (proc.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => {
      said += d.toString('utf8');
      const m = /^(\d+)\n/.exec(said);
      if (m) {
        clearTimeout(timer);
        resolve({ display: `:${m[1]}`, proc });
      }
    });
  });
}

function stopProcess(proc: ChildProcess | null): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

/** SPS (7) and PPS (8) come before the first IDR slice (5). */
function isIdrWithHeaders(nals: number[]): boolean {
  const idr = nals.indexOf(5);
  return idr > 0 && nals.indexOf(7) >= 0 && nals.indexOf(7) < idr && nals.indexOf(8) >= 0 && nals.indexOf(8) < idr;
}

describe('node-av media layer (child process)', () => {
  let r: Results;
  let auto: Results;

  beforeAll(async () => {
    r = await runSelftest(['open', 'content', 'forced', 'bitrate', 'unknown', 'nvenc', 'probe', 'opus', 'scale']);
    // Its own process: `auto` logs once per process.
    auto = await runSelftest(['auto']);
  }, 240_000);

  const hardware = () => (r.probe.probes as { name: string; available: boolean; reason?: string }[]).filter((p) => p.name !== 'libx264');

  it('opens libx264; the first frame is an IDR with SPS/PPS, the next is not', () => {
    const { open } = r;
    expect(open.name).toBe('libx264');
    expect([open.width, open.height]).toEqual([320, 240]);
    expect(open.first).toHaveLength(1);
    expect(open.first[0].keyframe).toBe(true);
    expect(isIdrWithHeaders(open.first[0].nals)).toBe(true);
    expect(open.second).toHaveLength(1);
    expect(open.second[0].keyframe).toBe(false);
    // Non-IDR slices only (one per slice thread).
    expect(open.second[0].nals.length).toBeGreaterThanOrEqual(1);
    expect(open.second[0].nals.every((n: number) => n === 1)).toBe(true);
    expect(open.afterClose).toMatch(/closed/);
  });

  it("encodes what was in the caller's buffer at encode() time, though the buffer is reused at once", () => {
    // Ten pictures, each decoded back: a flat error (a square drawn at ~3000 kb/s on 320x240
    // decodes within a few levels); reading the scribbled buffer would be off by ~100.
    expect(r.content.meanAbsError).toHaveLength(10);
    for (const e of r.content.meanAbsError) expect(e).toBeLessThan(4);
  });

  it('a forced keyframe on frame 10 is an IDR with SPS/PPS; the frames between are not keyframes', () => {
    const frames = r.forced.frames as { i: number; units: { keyframe: boolean; nals: number[] }[] }[];
    expect(frames).toHaveLength(30);
    for (const f of frames) {
      // Zero latency: each frame's access unit comes out of its own encode call.
      expect(f.units).toHaveLength(1);
      const [u] = f.units;
      if (f.i === 0 || f.i === 10) {
        expect(u.keyframe).toBe(true);
        expect(isIdrWithHeaders(u.nals)).toBe(true);
      } else {
        expect(u.keyframe).toBe(false);
        expect(u.nals).not.toContain(5);
        expect(u.nals).not.toContain(7);
      }
    }
  });

  it('setBitrate(2500 -> 500) brings a busy source within 1.5x of the target within a second', () => {
    const { bitrate } = r;
    console.log(`bitrate: ${bitrate.before} kb/s at 2500, then ${bitrate.after1} and ${bitrate.after2} kb/s in the 1st and 2nd second at 500`);
    expect(bitrate.before).toBeGreaterThan(1500); // the source really is busy
    expect(bitrate.after1).toBeLessThanOrEqual(750);
    expect(bitrate.after2).toBeLessThanOrEqual(750);
    expect(bitrate.after1).toBeGreaterThan(100); // lowered, not starved
  });

  it('auto takes a hardware encoder if one opens, else libx264 with exactly one log line', () => {
    const { auto: a } = auto;
    const available = hardware().filter((p) => p.available);
    expect(a.logsAfterFirst).toHaveLength(1);
    // A reopen decides the same way and says nothing more.
    expect(a.logs).toHaveLength(1);
    if (available.length === 0) {
      expect(a.name).toBe('libx264');
      expect(a.logs[0]).toMatch(/^info: video encoder: no hardware encoder \(h264_nvenc: .+; h264_qsv: .+; h264_vaapi: .+\); using libx264$/);
    } else {
      expect(a.logs[0]).toBe(`info: video encoder: using ${a.name} (hardware)`);
    }
    expect(a.units[0].keyframe).toBe(true);
    console.log(`auto: ${a.name} in ${a.openMs} ms (reopen ${a.reopenMs} ms): ${a.logs[0]}`);
  });

  it('a hardware encoder named explicitly that cannot open throws fast, naming the encoder and the reason', () => {
    for (const p of hardware()) {
      const result = r.nvenc[p.name];
      if (p.available) continue; // a machine with that GPU
      expect(result.error).toMatch(new RegExp(`^video encoder ${p.name} cannot be opened: .+`));
      expect(result.ms).toBeLessThan(1000);
    }
    if (!hardware().find((p) => p.name === 'h264_nvenc')!.available) {
      expect(r.nvenc.h264_nvenc.error).toMatch(/^video encoder h264_nvenc cannot be opened: /);
    }
  });

  it('an encoder name that does not exist throws; so do a bad size and a wrong-sized frame', () => {
    expect(r.unknown.unknown.error).toMatch(/^unknown video encoder "h264_magic"/);
    expect(r.unknown.oddSize.error).toMatch(/even/);
    expect(r.unknown.wrongInput.error).toMatch(/expected 115200 bytes/);
  });

  it('probes every encoder once per process (libx264 available, the others with a reason if not)', () => {
    const probes = r.probe.probes as { name: string; available: boolean; reason?: string }[];
    expect(probes.map((p) => p.name)).toEqual(['libx264', 'h264_nvenc', 'h264_qsv', 'h264_vaapi']);
    expect(probes[0].available).toBe(true);
    for (const p of probes) if (!p.available) expect(p.reason).toMatch(/.+/);
    expect(r.probe.cachedMs).toBeLessThan(1);
  });

  it('Opus: whole 20 ms packets, floor(samples / 960) of them, CELT-only (lowdelay)', () => {
    for (const key of ['stereo', 'mono']) {
      const o = r.opus[key];
      expect(o.packets).toBe(Math.floor(o.samples / 960));
      for (const toc of o.tocs as number[]) {
        expect(toc >> 3).toBeGreaterThanOrEqual(16); // CELT-only configurations
        expect((toc >> 3) & 3).toBe(3); // 20 ms
      }
    }
    expect(r.opus.badInput.error).toMatch(/whole number/);
  });

  it('scaleI420 halves a frame', () => {
    const s = r.scale;
    expect(s.length).toBe(s.expected);
    expect(s.distinctBuffers).toBe(true);
    expect(s.yLeft).toBeLessThan(12);
    expect(Math.abs(s.yMid - 128)).toBeLessThanOrEqual(4);
    expect(s.yRight).toBeGreaterThan(243);
    expect([s.u, s.v]).toEqual([100, 150]);
    expect(s.bad.error).toMatch(/expected 115200 bytes/);
  });
});

const xvfbPath = ['/usr/bin/Xvfb', '/usr/local/bin/Xvfb'].find((p) => existsSync(p));
const describeX = xvfbPath ? describe : describe.skip;

describeX('X11Capture against Xvfb (child process)', () => {
  let xvfb: ChildProcess | null = null;
  let x: Results;

  beforeAll(async () => {
    const started = await startXvfb();
    xvfb = started.proc;
    x = (await runSelftest([`x11=${started.display}`])).x11;
  }, 120_000);

  afterAll(() => stopProcess(xvfb));

  it('returns I420 frames of the right size, paced by x11grab, that encode', () => {
    expect(x.frames).toHaveLength(8);
    for (const f of x.frames) {
      expect(f.bytes).toBe(x.expectedBytes);
      // Xvfb's root window is black: limited-range black, neutral chroma.
      expect([f.y, f.u, f.v]).toEqual([16, 128, 128]);
    }
    const gaps = (x.frames as { gapMs: number }[]).slice(1).map((f) => f.gapMs);
    // Paced to 30 fps, not spinning (a shared machine makes single gaps jittery).
    expect(gaps.reduce((a, b) => a + b, 0) / gaps.length).toBeGreaterThan(20);
    expect(x.units[0].keyframe).toBe(true);
    expect(x.afterClose).toBeNull();
    expect(x.readAfterClose).toBeNull();
    expect(x.bad).toMatch(/cannot open display :12345/);
    console.log(`x11: open ${x.openMs} ms, frame gaps ${gaps.join(' ')} ms`);
  });
});
