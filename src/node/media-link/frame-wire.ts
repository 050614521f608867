/**
 * How the test pattern's frame source hands raw video to the media process. A frame is a 16-byte
 * header and then the I420 planes (Y, U, V) of width x height. The header carries the capture
 * time, so the media process stamps RTP with when the frame was drawn and can drop a frame that
 * waited while nobody watched.
 *
 * The frame itself goes through a file next to the video socket (`frameFileOf`: the instance's
 * socket dir), overwritten in place; the socket carries only the header as a "frame ready"
 * notice one way and a one-byte "taken" the other. The writer draws the next frame only after
 * "taken", so a frame is never torn and never queued. Why not the whole frame over the socket:
 * a unix socket's ~200 KiB buffer cut each 1.4 MB 720p frame into ~7-14 wake-ups and reads of the
 * media process (430 context switches a second at 720p30, a costly thing in a VM); through the
 * file it is one notice and one read (bench/frame-transport.ts measured both). Node has no mmap,
 * so this is as close to shared memory as it gets without a native addon; on a disk-backed tmp
 * dir the same 1.4 MB of page cache is rewritten, so little ever reaches the disk.
 *
 * Dependency-free (node built-ins only): both child processes load it.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';

export const FRAME_MAGIC = 0x53534631; // 'SSF1'
export const FRAME_HEADER_BYTES = 16;

export interface FrameHeader {
  frameNumber: number;
  /** Wall-clock time (ms since the epoch, fractional) when the frame was finished. */
  captureMs: number;
}

export function i420Bytes(width: number, height: number): number {
  return width * height + 2 * (width / 2) * (height / 2);
}

export function writeFrameHeader(target: Buffer, header: FrameHeader): void {
  target.writeUInt32BE(FRAME_MAGIC, 0);
  target.writeUInt32BE(header.frameNumber >>> 0, 4);
  target.writeDoubleBE(header.captureMs, 8);
}

/** Null when the bytes are not a frame header (the stream lost its framing). */
export function readFrameHeader(source: Buffer, offset = 0): FrameHeader | null {
  if (source.length - offset < FRAME_HEADER_BYTES || source.readUInt32BE(offset) !== FRAME_MAGIC) return null;
  return { frameNumber: source.readUInt32BE(offset + 4), captureMs: source.readDoubleBE(offset + 8) };
}

/** Wall-clock ms with sub-millisecond precision. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The file that carries the frames announced on `videoSocket`. */
export function frameFileOf(videoSocket: string): string {
  return `${videoSocket}.frame`;
}

/** The reader's "taken": the writer may overwrite the frame file. */
const TAKEN = Buffer.from([1]);

/**
 * The reading end: connects to `videoSocket`, and for each notice reads the frame file into
 * `frame` (header and planes, one read), calls `onFrame` with it, then says "taken". `onFrame`
 * may keep nothing of `frame`: the next frame overwrites it. A notice whose header the file does
 * not hold means the stream lost its framing: `onError`, and the reader stops.
 */
export function openFrameReader(
  videoSocket: string,
  frame: Buffer,
  onFrame: (header: FrameHeader) => void,
  onError: (reason: string) => void,
): net.Socket {
  const notice = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  let filled = 0;
  let fd: number | null = null;
  const socket = net.connect({
    path: videoSocket,
    onread: {
      buffer: () => notice.subarray(filled),
      callback: (n: number) => {
        filled += n;
        if (filled < FRAME_HEADER_BYTES) return true;
        filled = 0;
        const announced = readFrameHeader(notice);
        try {
          fd ??= fs.openSync(frameFileOf(videoSocket), 'r');
          const got = fs.readSync(fd, frame, 0, frame.length, 0);
          const header = got === frame.length ? readFrameHeader(frame) : null;
          if (!announced || !header || header.frameNumber !== announced.frameNumber) throw new Error(`the frame file does not hold the frame announced`);
          onFrame(header);
        } catch (e) {
          socket.destroy();
          onError((e as Error).message);
          return false;
        }
        socket.write(TAKEN);
        return true;
      },
    },
  });
  socket.once('close', () => {
    if (fd !== null) fs.closeSync(fd);
    fd = null;
  });
  return socket;
}

/**
 * The writing end, for one reader's connection: `send` writes `frame` (header and planes) to the
 * frame file and announces it; `busy` until the reader has taken the last one.
 */
export class FrameWriter {
  private waiting = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly fd: number,
  ) {
    socket.on('data', () => (this.waiting = false));
  }

  get busy(): boolean {
    return this.waiting;
  }

  send(frame: Buffer): void {
    fs.writeSync(this.fd, frame, 0, frame.length, 0);
    this.waiting = true;
    this.socket.write(Buffer.from(frame.subarray(0, FRAME_HEADER_BYTES)));
  }
}
