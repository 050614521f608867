/** Small helpers every node-av user here needs. Dependency: node-av only (no path aliases). */
import { FFmpegError } from 'node-av';

/** FFmpeg calls return a negative AVERROR on failure: turn it into an Error naming the step. */
export function check(ret: number, what: string): void {
  if (ret < 0) throw new Error(`${what}: ${FFmpegError.strerror(ret)}`);
}

/** Y, U and V of a packed I420 buffer of w x h (views, no copy). */
export function i420Planes(i420: Buffer, w: number, h: number): Buffer[] {
  const ySize = w * h;
  const cSize = ySize / 4;
  return [i420.subarray(0, ySize), i420.subarray(ySize, ySize + cSize), i420.subarray(ySize + cSize, ySize + 2 * cSize)];
}
