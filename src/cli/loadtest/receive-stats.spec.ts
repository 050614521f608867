import type { RtpHeader } from '../../node/media/rtp';
import { ReceiveStats } from './receive-stats';

const header = (sequence: number, timestamp: number, marker = false): RtpHeader => ({
  version: 2,
  marker,
  payloadType: 96,
  sequence,
  timestamp,
  ssrc: 1,
  payloadOffset: 12,
  payloadEnd: 12,
});
const IDR = Uint8Array.from([0x65, 1, 2]); // a single-NAL IDR slice
const SLICE = Uint8Array.from([0x41, 1, 2]); // a non-IDR slice

describe('ReceiveStats', () => {
  it('counts frames from the first keyframe on, and when that keyframe was complete', () => {
    const s = new ReceiveStats(90_000, true);
    s.onPacket(header(1, 0, true), SLICE, 0); // before any keyframe: not decodable
    s.onPacket(header(2, 3000), IDR, 33);
    s.onPacket(header(3, 3000, true), SLICE, 34);
    s.onPacket(header(4, 6000, true), SLICE, 67);
    expect(s).toMatchObject({ frames: 2, keyframes: 1, firstKeyframeAt: 34, packets: 4, bytes: 12 });
  });

  it('counts lost packets across a sequence wrap, and not a late one', () => {
    const s = new ReceiveStats(90_000, true);
    for (const seq of [65533, 65534, 0, 65535, 2, 3]) s.onPacket(header(seq, 0), SLICE, 0); // 1 lost, 65535 late
    expect(s.lost).toBe(1);
    expect(s.lossFraction).toBeCloseTo(1 / 7);
  });

  it('measures interarrival jitter as RFC 3550 does: none for a steady stream, about the spread for a wobbly one', () => {
    const steady = new ReceiveStats(90_000, true);
    const wobbly = new ReceiveStats(90_000, true);
    for (let i = 0; i < 200; i++) {
      steady.onPacket(header(i, i * 3000), SLICE, i * (1000 / 30));
      wobbly.onPacket(header(i, i * 3000), SLICE, i * (1000 / 30) + (i % 2 ? 5 : 0));
    }
    expect(steady.jitterMs).toBeCloseTo(0, 5);
    expect(wobbly.jitterMs).toBeGreaterThan(4);
    expect(wobbly.jitterMs).toBeLessThan(5.1);
  });
});
