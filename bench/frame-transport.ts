/**
 * How raw video should get from the frame source process to the media process: a unix socket
 * (what it was first), or "shared memory". Node has no mmap, so shared memory here is a file in /dev/shm
 * (tmpfs), written and read through the kernel. No package in node_modules maps shared memory
 * into Node (nothing matching shm/mmap/shared), so there is no real-mmap candidate.
 *
 *   npx ts-node -T bench/frame-transport.ts
 *
 * Children are this file (a writer and a reader), 1280x720 I420 at 30 fps for 10 s after a
 * warm-up; each transport runs twice, alternating (A B A B), so that machine noise shows.
 * - socket: the whole frame over the unix socket, as frame-source.ts wrote it until the frame
 *   file replaced it; the writer draws a frame only when `socket.writableLength === 0`. The reader
 *   reassembles chunks with Buffer.concat and copies the picture out with Buffer.from (the media
 *   process later read straight into one frame buffer, which saved most of the copies but not
 *   the ~7-14 wake-ups per frame).
 * - shm: what frame-wire.ts does now, in its simplest form: the writer overwrites a preallocated
 *   file at offset 0 (fs.writeSync) and sends 1 byte over a unix socket; the reader fs.readSync's
 *   it into a preallocated buffer and answers 1 byte. The writer draws only after that answer:
 *   one slot, so a frame is never torn.
 *
 * "Drawing" is a memset of the picture to the frame number (the reader checks it to detect torn
 * frames), so the CPU columns are the transport's plus a trivial frame source. Latency: the
 * writer stamps the header just before handing the frame over; the reader takes the difference
 * once the whole frame is in a buffer it can give the encoder. CPU: process.cpuUsage() of each
 * child over the window, in % of one core. One writer and reader pair per transport serves both
 * of its runs (a connection each), so that ts-node starts only four times.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FRAME_HEADER_BYTES, i420Bytes, nowMs, readFrameHeader, writeFrameHeader, type FrameHeader } from '../src/node/media-link/frame-wire';
import { nodeScript } from '../src/node/supervisor/node-script';
import { fmt, mean, quantile, sleep } from './lib';

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
const RUN_MS = 10_000;
const WARMUP_MS = 1_500;
const FRAME_BYTES = FRAME_HEADER_BYTES + i420Bytes(WIDTH, HEIGHT);
const FRAME_INTERVAL_MS = 1000 / FPS;
/** TestPatternSource's STALE_FRAME_INTERVALS. */
const STALE_MS = (2 * 1000) / FPS;
const TRANSPORTS = ['socket', 'shm'] as const;

type Transport = (typeof TRANSPORTS)[number];
interface Paths {
  socket: string;
  shm: string;
}
interface WriterStats {
  cpuPct: number;
  /** Ticks without a frame because the reader had not taken the previous one. */
  busy: number;
  /** Ticks without a frame because the timer fired late (the machine, not the transport). */
  late: number;
}
interface ReaderStats {
  cpuPct: number;
  seconds: number;
  received: number;
  latenciesMs: number[];
  /** Bytes memcpy'd in user space (Buffer.concat, Buffer.from), not counting the kernel's read. */
  copiedBytes: number;
  stale: number;
  torn: number;
}
interface Pair {
  transport: Transport;
  paths: Paths;
  writer: ChildProcess;
  reader: ChildProcess;
}
interface Result {
  transport: Transport;
  writer: WriterStats;
  reader: ReaderStats;
}

/** Counters reset on the parent's 'start', reported (with CPU over the window) on 'stop'. */
function measureOnCommand<T extends object>(fresh: () => T): T {
  const stats = fresh();
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  process.on('message', (m) => {
    if (m === 'start') {
      Object.assign(stats, fresh());
      cpu0 = process.cpuUsage();
      t0 = performance.now();
    } else if (m === 'stop') {
      const cpu = process.cpuUsage(cpu0);
      const ms = performance.now() - t0;
      process.send!({ ...stats, cpuPct: (cpu.user + cpu.system) / 10 / ms, seconds: ms / 1000 });
    }
  });
  process.on('disconnect', () => process.exit(0));
  return stats;
}

/** Listens at once; draws while a reader is connected. */
function writer(transport: Transport, paths: Paths): void {
  const stats = measureOnCommand(() => ({ busy: 0, late: 0 }));
  const frame = Buffer.alloc(FRAME_BYTES);
  const picture = frame.subarray(FRAME_HEADER_BYTES);
  const shm = transport === 'shm' ? fs.openSync(paths.shm, 'w+') : -1;
  if (shm >= 0) fs.ftruncateSync(shm, FRAME_BYTES);
  let frameNumber = 0;

  const onReader = (socket: net.Socket): void => {
    socket.on('error', () => socket.destroy()); // the reader leaves after each run
    let taken = true;
    if (transport === 'shm') socket.on('data', () => (taken = true));
    else socket.resume();
    const busy = () => (transport === 'shm' ? !taken : socket.writableLength > 0);
    const draw = (): void => {
      picture.fill(frameNumber & 0xff);
      writeFrameHeader(frame, { frameNumber, captureMs: nowMs() });
      if (transport === 'shm') {
        fs.writeSync(shm, frame, 0, FRAME_BYTES, 0);
        taken = false;
        socket.write(Buffer.of(1));
      } else {
        socket.write(frame);
      }
      frameNumber += 1;
    };
    // Paced like frame-source.ts: a late timer skips ticks rather than bursting.
    const epoch = performance.now();
    let tick = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.on('close', () => clearTimeout(timer));
    const onTick = (): void => {
      if (busy()) stats.busy += 1;
      else draw();
      tick += 1;
      const now = performance.now();
      const missed = Math.max(0, Math.ceil((now - (epoch + tick * FRAME_INTERVAL_MS)) / FRAME_INTERVAL_MS));
      stats.late += missed;
      tick += missed;
      timer = setTimeout(onTick, epoch + tick * FRAME_INTERVAL_MS - now);
    };
    onTick();
  };
  net.createServer(onReader).listen(paths.socket, () => process.send!('ready'));
}

/** Connects when the parent says 'go', disconnects once it has reported on 'stop'. */
function reader(transport: Transport, paths: Paths): void {
  const stats = measureOnCommand(() => ({ received: 0, latenciesMs: [] as number[], copiedBytes: 0, stale: 0, torn: 0 }));
  const arrived = (header: FrameHeader, i420: Buffer): void => {
    stats.latenciesMs.push(nowMs() - header.captureMs);
    stats.received += 1;
    const mark = header.frameNumber & 0xff;
    if (i420[0] !== mark || i420[i420.length - 1] !== mark) stats.torn += 1;
  };

  let shm = -1; // the writer creates the file
  const readShm = (socket: net.Socket): void => {
    if (shm < 0) shm = fs.openSync(paths.shm, 'r');
    const frame = Buffer.alloc(FRAME_BYTES);
    socket.on('data', () => {
      fs.readSync(shm, frame, 0, FRAME_BYTES, 0);
      arrived(readFrameHeader(frame)!, frame.subarray(FRAME_HEADER_BYTES));
      socket.write(Buffer.of(1));
    });
  };

  // TestPatternSource.onVideoData as it is.
  const readSocket = (socket: net.Socket): void => {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    socket.on('data', (chunk: Buffer) => {
      pending.push(chunk);
      pendingBytes += chunk.length;
      while (pendingBytes >= FRAME_BYTES) {
        if (pending.length > 1) stats.copiedBytes += pendingBytes;
        const all = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
        const frame = all.subarray(0, FRAME_BYTES);
        const rest = all.subarray(FRAME_BYTES);
        pending = rest.length ? [rest] : [];
        pendingBytes = rest.length;
        const header = readFrameHeader(frame);
        if (!header) throw new Error('the writer sent a frame without a header');
        if (Date.now() - header.captureMs > STALE_MS) {
          stats.stale += 1;
          continue;
        }
        const i420 = Buffer.from(frame.subarray(FRAME_HEADER_BYTES));
        stats.copiedBytes += i420.length;
        arrived(header, i420);
      }
    });
  };

  let socket: net.Socket | null = null;
  process.on('message', (m) => {
    if (m === 'stop') socket?.destroy();
    if (m !== 'go') return;
    const s = net.connect(paths.socket, () => {
      (transport === 'shm' ? readShm : readSocket)(s);
      process.send!('connected');
    });
    s.on('error', () => process.exit(1));
    socket = s;
  });
  process.send!('ready');
}

function startChild(role: 'writer' | 'reader', transport: Transport, paths: Paths): ChildProcess {
  const cmd = nodeScript(__dirname, 'frame-transport');
  return spawn(cmd.command, [...cmd.args, role, transport, JSON.stringify(paths)], { env: cmd.env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) reject(new Error('a child has exited'));
    child.once('message', (m) => resolve(m as T));
    child.once('exit', (code) => reject(new Error(`a child exited (code ${code}) before answering`)));
  });
}

const shmPath = (transport: Transport) => `/dev/shm/streamstack-frame-transport-${process.pid}-${transport}`;

async function startPair(transport: Transport, dir: string): Promise<Pair> {
  const paths = { socket: join(dir, `${transport}.sock`), shm: shmPath(transport) };
  const pair = { transport, paths, writer: startChild('writer', transport, paths), reader: startChild('reader', transport, paths) };
  await Promise.all([nextMessage(pair.writer), nextMessage(pair.reader)]);
  return pair;
}

async function measure({ transport, writer, reader }: Pair): Promise<Result> {
  const connected = nextMessage(reader);
  reader.send('go');
  await connected;
  await sleep(WARMUP_MS);
  const answers = Promise.all([nextMessage<WriterStats>(writer), nextMessage<ReaderStats>(reader)]);
  for (const c of [writer, reader]) c.send('start');
  await sleep(RUN_MS);
  for (const c of [writer, reader]) c.send('stop');
  const [w, r] = await answers;
  return { transport, writer: w, reader: r };
}

const fps = (r: Result) => r.reader.received / r.reader.seconds;
const totalCpu = (r: Result) => r.writer.cpuPct + r.reader.cpuPct;
const copiesPerFrame = (r: Result) => (r.reader.received ? r.reader.copiedBytes / r.reader.received / FRAME_BYTES : null);

function row(r: Result, run: number): string {
  const p = (q: number) => fmt(quantile(r.reader.latenciesMs, q), 2);
  return `| ${run} | ${r.transport} | ${fmt(fps(r), 1)} | ${p(0.5)} / ${p(0.95)} | ${fmt(r.writer.cpuPct, 1)} | ${fmt(r.reader.cpuPct, 1)} | ${fmt(copiesPerFrame(r), 2)} | ${r.writer.busy} / ${r.writer.late} | ${r.reader.stale} / ${r.reader.torn} |`;
}

/** Means per transport, and whether shm's differences exceed the spread between a transport's runs. */
function summary(results: Result[]): string {
  const stat = (t: Transport, f: (r: Result) => number) => {
    const v = results.filter((r) => r.transport === t).map(f);
    return { mean: mean(v)!, spread: Math.max(...v) - Math.min(...v) };
  };
  const compare = (name: string, unit: string, f: (r: Result) => number): string => {
    const [socket, shm] = TRANSPORTS.map((t) => stat(t, f));
    const noise = Math.max(socket.spread, shm.spread);
    const diff = shm.mean - socket.mean;
    return `${name} ${socket.mean.toFixed(2)} vs ${shm.mean.toFixed(2)}${unit} (${diff >= 0 ? '+' : ''}${diff.toFixed(2)}, ${Math.abs(diff) > noise ? 'beyond' : 'within'} the runs' spread of ${noise.toFixed(2)})`;
  };
  const torn = results.filter((r) => r.transport === 'shm').reduce((n, r) => n + r.reader.torn, 0);
  return (
    `Means, socket vs shm: ${compare('fps', '', fps)}; ${compare('latency p50', ' ms', (r) => quantile(r.reader.latenciesMs, 0.5)!)}; ` +
    `${compare('latency p95', ' ms', (r) => quantile(r.reader.latenciesMs, 0.95)!)}; ${compare('writer + reader CPU', ' % of a core', totalCpu)}; ` +
    `${compare('reader CPU', ' %', (r) => r.reader.cpuPct)}; reader copies per frame ${fmt(mean(results.filter((r) => r.transport === 'socket').map((r) => copiesPerFrame(r) ?? 0)), 2)} vs 0; torn shm frames: ${torn}.`
  );
}

async function main(): Promise<void> {
  console.log('`npx ts-node -T bench/frame-transport.ts`');
  console.log(`\n${WIDTH}x${HEIGHT} I420 (${FRAME_BYTES} bytes a frame) at ${FPS} fps, ${RUN_MS / 1000} s a run; Node ${process.version}, load average ${loadavg()[0].toFixed(1)}\n`);
  const dir = fs.mkdtempSync(join(tmpdir(), 'frame-transport-'));
  const order = [...TRANSPORTS, ...TRANSPORTS];
  const pairs: Pair[] = [];
  try {
    pairs.push(...(await Promise.all(TRANSPORTS.map((t) => startPair(t, dir)))));
    const results: Result[] = [];
    for (const [i, transport] of order.entries()) {
      process.stderr.write(`run ${i + 1}/${order.length}: ${transport}\n`);
      results.push(await measure(pairs.find((p) => p.transport === transport)!));
    }
    console.log('| run | transport | fps | latency p50 / p95 ms | writer CPU % | reader CPU % | reader copies/frame | writer skips busy / late | stale / torn |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    results.forEach((r, i) => console.log(row(r, Math.floor(i / TRANSPORTS.length) + 1)));
    console.log(`\n${summary(results)}`);
  } finally {
    for (const p of pairs) for (const c of [p.writer, p.reader]) c.kill();
    fs.rmSync(dir, { recursive: true, force: true });
    for (const t of TRANSPORTS) fs.rmSync(shmPath(t), { force: true });
  }
}

const [role, transport, paths] = process.argv.slice(2);
if (role === 'writer' || role === 'reader') {
  (role === 'writer' ? writer : reader)(transport as Transport, JSON.parse(paths) as Paths);
} else {
  main().catch((e: Error) => {
    console.error(e);
    process.exit(1);
  });
}
