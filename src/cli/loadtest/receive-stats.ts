import { isH264KeyframeStart, type RtpHeader } from '../../node/media/rtp';

/**
 * What one receiver can tell about an RTP stream from the packets alone, as RTCP receiver
 * reports do (RFC 3550 §6.4.1, A.3, A.8): packets, bytes, loss from sequence numbers,
 * interarrival jitter; for H.264 video also frames (marker bits) and keyframes.
 */
export class ReceiveStats {
  packets = 0;
  /** RTP payload bytes. */
  bytes = 0;
  /** Complete frames (packets with the marker bit), counted from the first keyframe on. */
  frames = 0;
  keyframes = 0;
  /** When the first keyframe was complete (the `at` of its last packet), or null. */
  firstKeyframeAt: number | null = null;
  private keyframeOpen = false;
  private firstSeq = -1;
  private highestSeq = -1;
  private lastTransit: number | null = null;
  private jitterUnits = 0;

  constructor(
    private readonly clockRate: number,
    private readonly video: boolean,
  ) {}

  /** One RTP packet, its header parsed, received at `at` (ms, a monotonic clock). */
  onPacket(header: RtpHeader, payload: Uint8Array, at: number): void {
    this.packets++;
    this.bytes += payload.length;
    this.trackSequence(header.sequence);
    // Interarrival jitter in RTP timestamp units, smoothed by 1/16 (RFC 3550 A.8).
    const transit = (at * this.clockRate) / 1000 - header.timestamp;
    if (this.lastTransit !== null) {
      let d = Math.abs(transit - this.lastTransit);
      // A timestamp wrap (every 13 h at 90 kHz) is one jump, not jitter.
      if (d > 2 ** 31) d = Math.abs(d - 2 ** 32);
      this.jitterUnits += (d - this.jitterUnits) / 16;
    }
    this.lastTransit = transit;
    if (!this.video) return;
    if (isH264KeyframeStart(payload)) this.keyframeOpen = true;
    if (!header.marker) return;
    if (this.keyframeOpen) {
      this.keyframes++;
      this.firstKeyframeAt ??= at;
      this.keyframeOpen = false;
    }
    if (this.firstKeyframeAt !== null) this.frames++;
  }

  /** Packets the sender sent (from the sequence numbers seen) that never arrived. */
  get lost(): number {
    return this.highestSeq < 0 ? 0 : Math.max(0, this.highestSeq - this.firstSeq + 1 - this.packets);
  }

  get lossFraction(): number {
    const expected = this.highestSeq < 0 ? 0 : this.highestSeq - this.firstSeq + 1;
    return expected > 0 ? this.lost / expected : 0;
  }

  get jitterMs(): number {
    return (this.jitterUnits * 1000) / this.clockRate;
  }

  /** Extends 16-bit sequence numbers across wraps; a late (reordered) packet does not move the highest. */
  private trackSequence(seq: number): void {
    if (this.highestSeq < 0) {
      this.firstSeq = this.highestSeq = seq;
      return;
    }
    let delta = seq - (this.highestSeq & 0xffff);
    if (delta < -0x8000) delta += 0x10000;
    else if (delta > 0x8000) delta -= 0x10000;
    if (delta > 0) this.highestSeq += delta;
  }
}
