import { H264Depacketizer, h264PayloadNalTypes, isH264KeyframeStart, parseRtpHeader } from './rtp';

describe('RTP helpers', () => {
  it('parses the fixed header, CSRCs, extension and padding', () => {
    const p = Buffer.from([
      0xb1, 0xe0, 0x12, 0x34, 0, 0, 0x10, 0, 0xde, 0xad, 0xbe, 0xef, // V=2 P X CC=1, M, PT=96
      0, 0, 0, 1, // CSRC
      0xbe, 0xde, 0, 1, 1, 2, 3, 4, // one-word extension
      0x65, 0xaa, 0, 2, // payload + 2 bytes of padding
    ]);
    const h = parseRtpHeader(p)!;
    expect(h).toMatchObject({ marker: true, payloadType: 96, sequence: 0x1234, timestamp: 0x1000, ssrc: 0xdeadbeef });
    expect(p.subarray(h.payloadOffset, h.payloadEnd)).toEqual(Buffer.from([0x65, 0xaa]));
    expect(parseRtpHeader(Buffer.alloc(8))).toBeNull();
  });

  it('finds keyframe starts in single NAL, STAP-A and FU-A payloads', () => {
    expect(isH264KeyframeStart(Buffer.from([0x65, 1]))).toBe(true); // IDR
    expect(isH264KeyframeStart(Buffer.from([0x41, 1]))).toBe(false); // non-IDR
    const stap = Buffer.from([0x78, 0, 2, 0x67, 1, 0, 2, 0x68, 1]); // SPS + PPS
    expect(h264PayloadNalTypes(stap).types).toEqual([7, 8]);
    expect(isH264KeyframeStart(stap)).toBe(true);
    expect(isH264KeyframeStart(Buffer.from([0x7c, 0x85, 1]))).toBe(true); // FU-A start of IDR
    expect(isH264KeyframeStart(Buffer.from([0x7c, 0x05, 1]))).toBe(false); // FU-A middle
  });

  it('reassembles Annex-B', () => {
    const d = new H264Depacketizer();
    expect(d.push(Buffer.from([0x7c, 0x85, 1, 2]))).toEqual(Buffer.alloc(0));
    expect(d.push(Buffer.from([0x7c, 0x45, 3]))).toEqual(Buffer.from([0, 0, 0, 1, 0x65, 1, 2, 3]));
    expect(d.push(Buffer.from([0x78, 0, 1, 0x67, 0, 1, 0x68]))).toEqual(Buffer.from([0, 0, 0, 1, 0x67, 0, 0, 0, 1, 0x68]));
  });
});
