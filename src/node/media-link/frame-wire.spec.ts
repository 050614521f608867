import * as fs from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FRAME_HEADER_BYTES, FrameWriter, frameFileOf, openFrameReader, writeFrameHeader, type FrameHeader } from './frame-wire';

const BYTES = FRAME_HEADER_BYTES + 64;

describe('frame file and notices (frame-wire)', () => {
  let dir: string;
  let server: net.Server;
  let fd: number;
  let serverSide: Promise<net.Socket>;
  const socketPath = () => join(dir, 'video.sock');

  beforeEach(async () => {
    dir = fs.mkdtempSync(join(tmpdir(), 'ss-frame-wire-'));
    fd = fs.openSync(frameFileOf(socketPath()), 'w+');
    let accept!: (s: net.Socket) => void;
    serverSide = new Promise((resolve) => (accept = resolve));
    server = net.createServer(accept);
    await new Promise<void>((resolve) => server.listen(socketPath(), resolve));
  });

  afterEach(async () => {
    fs.closeSync(fd);
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const frameOf = (frameNumber: number): Buffer => {
    const f = Buffer.alloc(BYTES, frameNumber & 0xff);
    writeFrameHeader(f, { frameNumber, captureMs: 1000 + frameNumber });
    return f;
  };
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
    expect(cond()).toBe(true);
  };

  it('hands each announced frame over whole, and the writer is busy until the reader took it', async () => {
    const into = Buffer.alloc(BYTES);
    const got: { header: FrameHeader; fill: number }[] = [];
    const reader = openFrameReader(socketPath(), into, (header) => got.push({ header, fill: into[BYTES - 1] }), (reason) => got.push({ header: { frameNumber: -1, captureMs: 0 }, fill: reason.length }));
    const writer = new FrameWriter(await serverSide, fd);
    for (let n = 1; n <= 3; n++) {
      expect(writer.busy).toBe(false);
      writer.send(frameOf(n));
      expect(writer.busy).toBe(true);
      await until(() => !writer.busy);
    }
    expect(got).toEqual([1, 2, 3].map((n) => ({ header: { frameNumber: n, captureMs: 1000 + n }, fill: n })));
    reader.destroy();
  });

  it('a notice the frame file does not hold is an error, and the reader stops', async () => {
    const errors: string[] = [];
    const frames: number[] = [];
    const reader = openFrameReader(socketPath(), Buffer.alloc(BYTES), (h) => frames.push(h.frameNumber), (reason) => errors.push(reason));
    const socket = await serverSide;
    fs.writeSync(fd, frameOf(7), 0, BYTES, 0);
    socket.write(frameOf(8).subarray(0, FRAME_HEADER_BYTES)); // announces 8, the file holds 7
    await until(() => errors.length > 0);
    expect(errors[0]).toMatch(/does not hold the frame announced/);
    expect(frames).toEqual([]);
    await until(() => reader.destroyed);
  });

  it('a frame file shorter than a frame is an error, not a torn frame', async () => {
    const errors: string[] = [];
    openFrameReader(socketPath(), Buffer.alloc(BYTES), () => errors.push('frame'), (reason) => errors.push(reason));
    const socket = await serverSide;
    fs.writeSync(fd, frameOf(1), 0, FRAME_HEADER_BYTES + 8, 0);
    socket.write(frameOf(1).subarray(0, FRAME_HEADER_BYTES));
    await until(() => errors.length > 0);
    expect(errors[0]).toMatch(/does not hold/);
  });
});
