/**
 * How the test pattern's frame source hands raw video to the media process over a unix
 * socket: each frame is a 16-byte header and then the I420 planes (Y, U, V) of width x height.
 * The header carries the capture time, so the media process stamps RTP with when the frame
 * was drawn and can drop a frame that waited in a socket buffer while nobody watched.
 *
 * Why a unix socket and not shared memory: Node has no mmap, so "shared memory" would be a
 * file in /dev/shm written and read through the kernel all the same (bench/frame-transport.ts
 * measured both).
 *
 * Dependency-free: both child processes load it.
 */
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
