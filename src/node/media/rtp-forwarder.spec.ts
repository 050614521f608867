import { parseRtpHeader } from './rtp';
import { PLAYOUT_DELAY_ZERO, RtpForwarder, withRtpHeaderExtension } from './rtp-forwarder';

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

  it('adds the playout-delay extension (min = max = 0) once negotiated, after the rewrite, and only to forwarded packets', () => {
    const f = forwarder({ t: 0 });
    f.playoutDelayExtensionId = 5;
    expect(f.forward(rtp(1, 0, NON_IDR))).toBeNull(); // gated
    const input = rtp(2, 9000, SPS, { marker: true });
    const out = f.forward(input)!;
    expect(out).toEqual(
      Buffer.from([
        0x90, 0x80 | 96, 0x00, 0x02, 0x00, 0x00, 0x23, 0x28, 0xde, 0xad, 0xbe, 0xef, // X set; PT, SSRC rewritten
        0xbe, 0xde, 0x00, 0x01, // one-byte profile, one word
        0x52, 0x00, 0x00, 0x00, // id 5, length 3 (L = 2): 12-bit min 0, 12-bit max 0
        ...SPS,
      ]),
    );
    expect(parseRtpHeader(out)).toMatchObject({ payloadType: 96, sequence: 2, timestamp: 9000, marker: true, payloadOffset: 20, payloadEnd: 20 + SPS.length });
    // Not negotiated: the packet itself, unchanged in length.
    f.playoutDelayExtensionId = null;
    const plain = rtp(3, 9000, NON_IDR);
    expect(f.forward(plain)).toBe(plain);
    expect(plain.length).toBe(12 + NON_IDR.length);
  });
});

describe('withRtpHeaderExtension', () => {
  const payload = [0x41, 0x9a, 0x01, 0x02, 0x03];
  const header = (b0: number) => [b0, 0xe0, 0x12, 0x34, 0x00, 0x01, 0x5f, 0x90, 0xca, 0xfe, 0xba, 0xbe];
  const ours = [0xbe, 0xde, 0x00, 0x01, 0x52, 0x00, 0x00, 0x00];

  it('inserts the block after the CSRCs and keeps the RTP padding (and its count) at the end', () => {
    const csrcs = [0, 0, 0, 1, 0, 0, 0, 2];
    const padding = [0, 0, 3];
    const input = Buffer.from([...header(0xa2), ...csrcs, ...payload, ...padding]); // P, CC = 2
    const out = withRtpHeaderExtension(input, 5, PLAYOUT_DELAY_ZERO);
    expect([...out]).toEqual([...header(0xb2), ...csrcs, ...ours, ...payload, ...padding]);
    const h = parseRtpHeader(out)!;
    expect(out.subarray(h.payloadOffset, h.payloadEnd)).toEqual(Buffer.from(payload));
    expect(input[0]).toBe(0xa2); // the input is left alone
  });

  it('replaces an extension block the encoder wrote (one-byte or two-byte form): its ids were not negotiated with the receiver', () => {
    const oneByte = [0xbe, 0xde, 0x00, 0x02, 0x10, 0xaa, 0x22, 0xbb, 0xcc, 0xdd, 0x00, 0x00]; // id 1 (1 byte), id 2 (3 bytes), padding
    const twoByte = [0x10, 0x00, 0x00, 0x01, 0x07, 0x01, 0xee, 0x00]; // appbits 0, id 7 (1 byte), padding
    for (const ext of [oneByte, twoByte]) {
      const out = withRtpHeaderExtension(Buffer.from([...header(0x90), ...ext, ...payload]), 5, PLAYOUT_DELAY_ZERO);
      expect([...out]).toEqual([...header(0x90), ...ours, ...payload]);
    }
    // With CSRCs and padding as well.
    const csrc = [0x0a, 0x0b, 0x0c, 0x0d];
    const input = Buffer.from([...header(0xb1), ...csrc, ...oneByte, ...payload, 0, 2]);
    expect([...withRtpHeaderExtension(input, 5, PLAYOUT_DELAY_ZERO)]).toEqual([...header(0xb1), ...csrc, ...ours, ...payload, 0, 2]);
  });

  it('pads an element to whole words and checks the one-byte limits', () => {
    const out = withRtpHeaderExtension(Buffer.from(header(0x80)), 14, Buffer.from([1, 2, 3, 4, 5]));
    expect([...out.subarray(12)]).toEqual([0xbe, 0xde, 0x00, 0x02, 0xe4, 1, 2, 3, 4, 5, 0, 0]);
    expect(() => withRtpHeaderExtension(Buffer.from(header(0x80)), 15, PLAYOUT_DELAY_ZERO)).toThrow(RangeError);
    expect(() => withRtpHeaderExtension(Buffer.from(header(0x80)), 0, PLAYOUT_DELAY_ZERO)).toThrow(RangeError);
    expect(() => withRtpHeaderExtension(Buffer.from(header(0x80)), 1, new Uint8Array(17))).toThrow(RangeError);
    expect(() => withRtpHeaderExtension(Buffer.from([...header(0x90), 0xbe, 0xde, 0x00, 0x09]), 1, PLAYOUT_DELAY_ZERO)).toThrow(RangeError);
  });
});
