/**
 * Which source frames to encode when the rate controller asks for fewer frames per second than the
 * source delivers. Keeping "each frame at least 0.8 of an interval after the last one" cannot make
 * 20 fps of 30 (it keeps every other frame: 15); due times on a steady cadence do (two of three).
 *
 * Pure and clock-free, no imports (the plain-node media process loads it as is).
 */
export class FramePacer {
  private nextDue = -Infinity;

  /** True if the frame captured at `captureMs` is to be encoded at `fps`, of a source delivering `sourceFps`. */
  take(captureMs: number, fps: number, sourceFps: number): boolean {
    const interval = 1000 / fps;
    if (fps >= sourceFps) {
      // Every frame, whatever its jitter; a later lower rate starts its cadence here.
      this.nextDue = captureMs + interval;
      return true;
    }
    // A quarter of an interval early still counts (capture jitter): the frame nearest its due time.
    if (captureMs < this.nextDue - interval / 4) return false;
    this.nextDue += interval;
    // More than an interval behind (the first frame, a source that paused): a new cadence from here.
    if (this.nextDue < captureMs) this.nextDue = captureMs + interval;
    return true;
  }
}
