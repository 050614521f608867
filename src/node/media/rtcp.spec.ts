import { buildFir, buildNack, buildPli, isRtcp, parseRtcp } from './rtcp';

describe('rtcp', () => {
  it('round-trips NACKs, packing neighbours into the bitmask', () => {
    const nack = buildNack(1, 0xabcdef01, [100, 101, 116, 117, 65535, 0]);
    expect(isRtcp(nack)).toBe(true);
    const [fb] = parseRtcp(nack);
    expect(fb).toEqual({ kind: 'nack', mediaSsrc: 0xabcdef01, sequences: expect.arrayContaining([0, 100, 101, 116, 117, 65535]) });
    expect(fb.kind === 'nack' && fb.sequences).toHaveLength(6);
  });

  it('finds PLI and FIR in a compound packet after a receiver report', () => {
    const rr = Buffer.alloc(8);
    rr[0] = 0x80;
    rr[1] = 201;
    rr.writeUInt16BE(1, 2);
    const compound = Buffer.concat([rr, buildPli(1, 42), buildFir(1, 43, 7)]);
    expect(parseRtcp(compound)).toEqual([
      { kind: 'other', packetType: 201, format: 0 },
      { kind: 'pli', mediaSsrc: 42 },
      { kind: 'fir', mediaSsrcs: [43] },
    ]);
  });

  it('reads a sender report and stops at a truncated part', () => {
    const sr = Buffer.alloc(28);
    sr[0] = 0x80;
    sr[1] = 200;
    sr.writeUInt16BE(6, 2);
    sr.writeUInt32BE(7, 4);
    sr.writeBigUInt64BE(123n << 32n, 8);
    sr.writeUInt32BE(9000, 16);
    sr.writeUInt32BE(5, 20);
    sr.writeUInt32BE(500, 24);
    expect(parseRtcp(Buffer.concat([sr, buildPli(1, 2).subarray(0, 8)]))).toEqual([
      { kind: 'sr', ssrc: 7, ntp: 123n << 32n, rtpTimestamp: 9000, packetCount: 5, octetCount: 500 },
    ]);
    expect(isRtcp(Buffer.from([0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]))).toBe(false);
  });
});
