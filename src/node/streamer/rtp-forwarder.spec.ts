import { parseRtpHeader } from '../runtime/rtp';
import { RtpForwarder } from './rtp-forwarder';

/** An RTP packet as ffmpeg writes it (single NAL unit / FU-A payloads). */
function rtp(seq: number, ts: number, payload: number[], { pt = 100, ssrc = 0x1234, marker = false } = {}): Buffer {
  const b = Buffer.alloc(12 + payload.length);
  b[0] = 0x80;
  b[1] = (marker ? 0x80 : 0) | pt;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  Buffer.from(payload).copy(b, 12);
  return b;
}
const SPS = [0x67, 0x42, 0xc0, 0x1f];
const NON_IDR = [0x41, 0x9a];
const FU_A_IDR_START = [0x7c, 0x85, 0x88];
const FU_A_IDR_MIDDLE = [0x7c, 0x05, 0x88];
const STAP_A_SPS_PPS = [0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce];

function forwarder(now: { t: number }, kind: 'video' | 'audio' = 'video') {
  return new RtpForwarder({
    kind,
    inputPayloadType: 100,
    outputPayloadType: 96,
    outputSsrc: 0xdeadbeef,
    clockRate: kind === 'video' ? 90_000 : 48_000,
    waitForKeyframe: kind === 'video',
    now: () => now.t,
  });
}

describe('RtpForwarder', () => {
  it('holds video until a packet that starts an IDR, then rewrites only payload type and SSRC', () => {
    const now = { t: 0 };
    const f = forwarder(now);
    expect(f.process(rtp(10, 1000, NON_IDR))).toBe('waiting-for-keyframe');
    expect(f.process(rtp(11, 1000, FU_A_IDR_MIDDLE))).toBe('waiting-for-keyframe');
    const start = rtp(12, 4000, SPS, { marker: false });
    expect(f.process(start)).toBe('forward');
    const h = parseRtpHeader(start)!;
    expect(h).toMatchObject({ payloadType: 96, ssrc: 0xdeadbeef, sequence: 12, timestamp: 4000, marker: false });
    expect(start.subarray(12)).toEqual(Buffer.from(SPS));
    const next = rtp(13, 7000, NON_IDR, { marker: true });
    expect(f.process(next)).toBe('forward');
    expect(parseRtpHeader(next)).toMatchObject({ payloadType: 96, ssrc: 0xdeadbeef, sequence: 13, timestamp: 7000, marker: true });
    expect(f.stats).toMatchObject({ forwarded: 2, gated: 2, discontinuities: 0 });
  });

  it.each([
    ['an FU-A start of an IDR', FU_A_IDR_START],
    ['a STAP-A with the SPS', STAP_A_SPS_PPS],
    ['an IDR slice', [0x65, 0x88]],
  ])('opens the gate at %s', (_name, payload) => {
    const f = forwarder({ t: 0 });
    expect(f.process(rtp(1, 0, payload))).toBe('forward');
  });

  it('drops what is not RTP of the encoder payload type', () => {
    const f = forwarder({ t: 0 }, 'audio');
    expect(f.process(Buffer.from([0x80, 200, 0, 6, 0, 0, 0, 1]))).toBe('not-rtp');
    expect(f.process(rtp(1, 0, [1], { pt: 101 }))).toBe('not-rtp');
    expect(f.process(Buffer.from('garbage that is long enough'))).toBe('not-rtp');
    expect(f.process(rtp(1, 0, [1]))).toBe('forward');
  });

  it('keeps gaps from loss visible (the receiver NACKs them) and reordered packets in place', () => {
    const f = forwarder({ t: 0 }, 'audio');
    const out = (p: Buffer) => (f.process(p), parseRtpHeader(p)!.sequence);
    expect(out(rtp(100, 0, [1]))).toBe(100);
    expect(out(rtp(103, 2880, [1]))).toBe(103);
    expect(out(rtp(102, 1920, [1]))).toBe(102);
    expect(out(rtp(104, 3840, [1]))).toBe(104);
    expect(f.stats.discontinuities).toBe(0);
  });

  it('continues sequence numbers and RTP time across an encoder restart, starting again at its IDR', () => {
    const now = { t: 1000 };
    const f = forwarder(now);
    const seen: Array<{ seq: number; ts: number }> = [];
    const send = (p: Buffer) => {
      const v = f.process(p);
      if (v === 'forward') seen.push({ seq: parseRtpHeader(p)!.sequence, ts: parseRtpHeader(p)!.timestamp });
      return v;
    };
    send(rtp(65534, 0xfffff000, SPS));
    send(rtp(65535, 0xfffff000, NON_IDR));
    now.t += 33;
    send(rtp(0, 0xfffff000 + 3000, NON_IDR)); // wraps
    // The encoder restarts 150 ms later with a random sequence number and timestamp base.
    now.t += 150;
    expect(send(rtp(3000, 123456, NON_IDR))).toBe('waiting-for-keyframe'); // not a clean start: held
    expect(send(rtp(3001, 123456, SPS))).toBe('forward');
    now.t += 33;
    send(rtp(3002, 123456 + 3000, NON_IDR));
    expect(seen.map((s) => s.seq)).toEqual([65534, 65535, 0, 1, 2]);
    const ts = seen.map((s) => s.ts);
    expect((ts[3] - ts[2]) >>> 0).toBe(Math.round(0.15 * 90_000));
    expect((ts[4] - ts[3]) >>> 0).toBe(3000);
    expect(f.stats.discontinuities).toBe(1);
  });

  it('asks for a keyframe when a new encoder run does not start with one', () => {
    const now = { t: 0 };
    const f = forwarder(now);
    const needed = jest.fn();
    f.onKeyframeNeeded = needed;
    f.process(rtp(10, 0, SPS));
    expect(needed).not.toHaveBeenCalled();
    f.process(rtp(40000, 999_999_999, NON_IDR));
    expect(needed).toHaveBeenCalledTimes(1);
    // The very first gate (a new viewer) asks nobody: the settings keyframe is on its way.
    const fresh = forwarder(now);
    fresh.onKeyframeNeeded = needed;
    fresh.process(rtp(1, 0, NON_IDR));
    expect(needed).toHaveBeenCalledTimes(1);
  });

  it('rebases audio at once (no gate) across a restart', () => {
    const now = { t: 0 };
    const f = forwarder(now, 'audio');
    const p1 = rtp(500, 48_000, [1]);
    f.process(p1);
    now.t += 200;
    const p2 = rtp(9000, 7, [1]);
    expect(f.process(p2)).toBe('forward');
    expect(parseRtpHeader(p2)).toMatchObject({ sequence: 501, timestamp: 48_000 + 9600 });
  });

  it('uses the payload type the answer chose', () => {
    const f = forwarder({ t: 0 }, 'audio');
    f.outputPayloadType = 109;
    const p = rtp(1, 0, [1]);
    f.process(p);
    expect(parseRtpHeader(p)!.payloadType).toBe(109);
  });
});
