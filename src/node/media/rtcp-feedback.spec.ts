import { buildPli } from './rtcp';
import { buildReceiverReport, buildRemb, LOSS_WINDOW_MS, LossMeter, ntpMiddle32, parseRtcpFeedback, rttFromReport } from './rtcp-feedback';

/** A sender report with the given report blocks (24 bytes each, after the 20-byte sender info). */
function buildSenderReport(ssrc: number, blocks: Parameters<typeof buildReceiverReport>[1]): Buffer {
  const rr = Buffer.from(buildReceiverReport(ssrc, blocks));
  const sr = Buffer.concat([rr.subarray(0, 8), Buffer.alloc(20), rr.subarray(8)]);
  sr[1] = 200;
  sr.writeUInt16BE(sr.length / 4 - 1, 2);
  sr.writeBigUInt64BE(0x0123456789abcdefn, 8);
  return sr;
}

/**
 * A REMB as Chromium writes it, by hand: V=2 FMT=15 PT=206 length 5, sender 1, media 0, 'REMB',
 * 1 SSRC, exponent 4 and mantissa 156250 (0x2625a) = 2.5 Mb/s, SSRC 0x1234.
 */
const CHROMIUM_REMB = Buffer.from('8fce0005' + '00000001' + '00000000' + '52454d42' + '01' + '12' + '625a' + '00001234', 'hex');

describe('parseRtcpFeedback', () => {
  it('reads a REMB written by hand (mantissa x 2^exponent) with its SSRCs', () => {
    expect(parseRtcpFeedback(CHROMIUM_REMB)).toEqual([{ kind: 'remb', bps: 2_500_000, ssrcs: [0x1234] }]);
    expect(Buffer.from(buildRemb(1, 2_500_000, [0x1234]))).toEqual(CHROMIUM_REMB);
  });

  it.each([
    ['0', 0],
    ['1 b/s', 1],
    ['the largest mantissa', 2 ** 18 - 1],
    ['300 kb/s', 300_000],
    ['2.5 Mb/s', 2_500_000],
    ['10 Gb/s', 10e9],
  ])('round-trips a REMB of %s (within the 18-bit mantissa)', (_name, bps) => {
    const [remb] = parseRtcpFeedback(buildRemb(7, bps, [1, 2, 3]));
    expect(remb).toMatchObject({ kind: 'remb', ssrcs: [1, 2, 3] });
    const got = remb.kind === 'remb' ? remb.bps : Number.NaN;
    expect(got).toBeLessThanOrEqual(bps);
    expect(got).toBeGreaterThanOrEqual(bps * (1 - 2 ** -17));
  });

  it('reads the largest REMB the format can carry (exponent 63, mantissa all ones) as a finite number', () => {
    const b = buildRemb(7, 0, []);
    b[17] = 0xff;
    b[18] = 0xff;
    b[19] = 0xff;
    const [remb] = parseRtcpFeedback(b);
    expect(remb).toEqual({ kind: 'remb', bps: (2 ** 18 - 1) * 2 ** 63, ssrcs: [] });
    expect(Number.isFinite(remb.kind === 'remb' && remb.bps)).toBe(true);
  });

  it('reads every report block of an RR, fraction lost as x/256 and cumulative lost signed', () => {
    const rr = buildReceiverReport(9, [
      { ssrc: 0xdeadbeef, fractionLost: 0.25, cumulativeLost: 1234, highestSeq: 0x1_0010, jitter: 90, lsr: 0xabcd1234, dlsr: 65536 },
      { ssrc: 2, fractionLost: 255 / 256, cumulativeLost: -3 },
    ]);
    expect(parseRtcpFeedback(rr)).toEqual([
      { kind: 'report', ssrc: 0xdeadbeef, fractionLost: 0.25, cumulativeLost: 1234, highestSeq: 0x1_0010, jitter: 90, lsr: 0xabcd1234, dlsr: 65536 },
      { kind: 'report', ssrc: 2, fractionLost: 255 / 256, cumulativeLost: -3, highestSeq: 0, jitter: 0, lsr: 0, dlsr: 0 },
    ]);
  });

  it('reads the report blocks of an SR after its sender info', () => {
    expect(parseRtcpFeedback(buildSenderReport(5, [{ ssrc: 77, fractionLost: 0.5, jitter: 3 }]))).toEqual([
      { kind: 'report', ssrc: 77, fractionLost: 0.5, cumulativeLost: 0, highestSeq: 0, jitter: 3, lsr: 0, dlsr: 0 },
    ]);
    expect(parseRtcpFeedback(buildSenderReport(5, []))).toEqual([]);
  });

  it('walks a compound packet (RR, REMB, PLI, SDES) in order, skipping what it does not need', () => {
    const sdes = Buffer.from('81ca000300000009010474657374', 'hex'); // SDES CNAME "test" (padded below)
    const compound = Buffer.concat([
      buildReceiverReport(9, [{ ssrc: 42, fractionLost: 0.1 }]),
      buildRemb(9, 280_000, [42]),
      buildPli(9, 42),
      Buffer.concat([sdes, Buffer.alloc(2)]),
      buildReceiverReport(9, [{ ssrc: 43, fractionLost: 0 }]),
    ]);
    expect(parseRtcpFeedback(compound).map((f) => (f.kind === 'remb' ? `remb ${f.bps}` : `report ${f.ssrc} ${f.fractionLost.toFixed(3)}`))).toEqual([
      'report 42 0.098',
      'remb 280000',
      'report 43 0.000',
    ]);
  });

  it('reads only the blocks that fit when RC claims more than the length holds', () => {
    const rr = Buffer.from(buildReceiverReport(9, [{ ssrc: 1, fractionLost: 0 }, { ssrc: 2, fractionLost: 0 }]));
    rr[0] = 0x80 | 31; // RC 31, length still says two blocks
    expect(parseRtcpFeedback(rr).map((f) => f.kind === 'report' && f.ssrc)).toEqual([1, 2]);
    const remb = Buffer.from(buildRemb(9, 1000, [5]));
    remb[16] = 200; // 200 SSRCs claimed, one present
    expect(parseRtcpFeedback(remb)).toEqual([{ kind: 'remb', bps: 1000, ssrcs: [5] }]);
  });

  it('never throws on malformed input, keeping what came before the damage', () => {
    const rr = buildReceiverReport(9, [{ ssrc: 1, fractionLost: 0.5 }]);
    const remb = buildRemb(9, 1e6, [1]);
    const good = [{ kind: 'report', ssrc: 1, fractionLost: 0.5, cumulativeLost: 0, highestSeq: 0, jitter: 0, lsr: 0, dlsr: 0 }];
    const badVersion = Buffer.from(remb);
    badVersion[0] = 0x4f;
    const lyingLength = Buffer.from(remb);
    lyingLength.writeUInt16BE(0xffff, 2);
    const notRemb = Buffer.from(remb);
    notRemb.write('RAMB', 12);
    const shortRemb = Buffer.from(remb.subarray(0, 16));
    shortRemb.writeUInt16BE(3, 2); // a consistent 16-byte AFB: too short for REMB
    const cases: Array<[string, Uint8Array, unknown[]]> = [
      ['empty', new Uint8Array(0), []],
      ['three bytes', Uint8Array.from([0x80, 201, 0]), []],
      ['truncated RR', rr.subarray(0, 20), []],
      ['RR then truncated REMB', Buffer.concat([rr, remb.subarray(0, 15)]), good],
      ['RR then bad version', Buffer.concat([rr, badVersion]), good],
      ['RR then lying length', Buffer.concat([rr, lyingLength]), good],
      ['RR then AFB that is not REMB', Buffer.concat([rr, notRemb]), good],
      ['RR then AFB too short for REMB', Buffer.concat([rr, shortRemb]), good],
      ['RTP, not RTCP', Buffer.from('80600001000000000000000011223344', 'hex'), []],
    ];
    for (const [name, packet, expected] of cases) {
      expect([name, parseRtcpFeedback(packet)]).toEqual([name, expected]);
    }
    // Any prefix and any single corrupted byte of a compound packet: no throw.
    const compound = Buffer.concat([rr, remb, buildSenderReport(3, [{ ssrc: 1, fractionLost: 0 }])]);
    for (let n = 0; n <= compound.length; n++) expect(() => parseRtcpFeedback(compound.subarray(0, n))).not.toThrow();
    for (let i = 0; i < compound.length; i++) {
      for (const v of [0x00, 0x7f, 0xff]) {
        const broken = Buffer.from(compound);
        broken[i] = v;
        expect(() => parseRtcpFeedback(broken)).not.toThrow();
      }
    }
    expect(parseRtcpFeedback(null as unknown as Uint8Array)).toEqual([]);
  });

  it('reads a view into a larger buffer at its own offset', () => {
    const backing = Buffer.concat([Buffer.alloc(5, 0xee), buildRemb(1, 500_000, [9]), Buffer.alloc(3, 0xee)]);
    expect(parseRtcpFeedback(backing.subarray(5, 5 + 24))).toEqual([{ kind: 'remb', bps: 500_000, ssrcs: [9] }]);
  });
});

describe('ntpMiddle32 and rttFromReport', () => {
  it('takes the middle 32 bits of the NTP time (seconds since 1900, 16-bit fraction)', () => {
    expect(ntpMiddle32(0)).toBe(((2_208_988_800 % 65536) * 65536) >>> 0);
    expect(ntpMiddle32(500) - ntpMiddle32(0)).toBe(32768);
    const now = Date.UTC(2025, 0, 1, 12, 0, 0, 250);
    const ntpSeconds = BigInt(Math.floor(now / 1000)) + 2_208_988_800n;
    const ntp64 = (ntpSeconds << 32n) | BigInt(Math.floor(0.25 * 2 ** 32));
    expect(ntpMiddle32(now)).toBe(Number((ntp64 >> 16n) & 0xffffffffn));
    expect(ntpMiddle32(Number.NaN)).toBe(0);
  });

  it('computes now - LSR - DLSR in ms, also across the 32-bit wrap', () => {
    const sentAt = Date.UTC(2025, 0, 1, 12, 0, 0, 0);
    const lsr = ntpMiddle32(sentAt);
    const dlsr = 0.5 * 65536; // the receiver held our SR for 500 ms
    expect(rttFromReport(lsr, dlsr, ntpMiddle32(sentAt + 540))).toBeCloseTo(40, 0);
    // The middle 32 bits wrap every 65536 s: LSR just before, now just after.
    expect(rttFromReport(0xffffff00, 0, 0x00000100)).toBeCloseTo((0x200 * 1000) / 65536, 6);
  });

  it('gives null without an SR to echo or when the result would be negative', () => {
    expect(rttFromReport(0, 0, ntpMiddle32(Date.now()))).toBeNull();
    const lsr = ntpMiddle32(1_000_000);
    expect(rttFromReport(lsr, 65536, ntpMiddle32(1_000_500))).toBeNull(); // DLSR 1 s > 0.5 s elapsed
    expect(rttFromReport(lsr, Number.NaN, ntpMiddle32(1_000_500))).toBeNull();
  });
});

describe('LossMeter', () => {
  it('gives one sample per window of at least a second, from the cumulative counters, whatever the report rate', () => {
    const m = new LossMeter();
    expect(m.onReport({ cumulativeLost: 0, highestSeq: 1000 }, 0)).toBeNull(); // opens the window
    // Twenty reports in the second (one with each NACK): none closes the window early.
    for (let t = 50; t < LOSS_WINDOW_MS; t += 50) expect(m.onReport({ cumulativeLost: t / 50, highestSeq: 1000 + t / 10 }, t)).toBeNull();
    // 100 packets expected, 10 never arrived: 10 %.
    expect(m.onReport({ cumulativeLost: 10, highestSeq: 1100 }, 1000)).toBeCloseTo(0.1);
    // Next window: 3 of the 10 came back after NACKs (the count goes down): no loss, not negative.
    expect(m.onReport({ cumulativeLost: 7, highestSeq: 1200 }, 2000)).toBe(0);
  });

  it('counts distinct NACKed packets when NACKs brought them back before the report', () => {
    const m = new LossMeter();
    m.onReport({ cumulativeLost: 0, highestSeq: 65530 }, 0);
    m.onNack([65534, 65535, 0]);
    m.onNack([65535, 0, 1]); // repeated NACKs count once; the 16-bit numbers wrap
    expect(m.onReport({ cumulativeLost: 0, highestSeq: 65536 + 30 }, 1000)).toBeCloseTo(4 / 36);
    // A new window: NACKs of packets of an earlier one (never sent again) do not count.
    m.onNack([65535, 10]);
    expect(m.onReport({ cumulativeLost: 0, highestSeq: 65536 + 130 }, 2000)).toBe(0);
  });

  it('gives nothing for a window without packets, a counter reset, or a clock going backwards', () => {
    const m = new LossMeter();
    m.onReport({ cumulativeLost: 0, highestSeq: 500 }, 0);
    expect(m.onReport({ cumulativeLost: 0, highestSeq: 500 }, 1000)).toBeNull(); // nothing expected
    expect(m.onReport({ cumulativeLost: 0, highestSeq: 100 }, 2000)).toBeNull(); // went backwards: a reset
    expect(m.onReport({ cumulativeLost: 0, highestSeq: 200 }, 500)).toBeNull(); // time went backwards: a new window
    expect(m.onReport({ cumulativeLost: 5, highestSeq: 300 }, 1500)).toBeCloseTo(0.05);
    expect(m.onReport({ cumulativeLost: 5, highestSeq: 400 }, NaN)).toBeNull();
  });
});
