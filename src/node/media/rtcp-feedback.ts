/**
 * What a receiver says about the network, from its (compound) RTCP: REMB (draft-alvestrand-rmcat-remb)
 * and the report blocks of receiver and sender reports (RFC 3550 §6.4). Input for rate-controller.ts.
 * The builders at the end are for tests and tools (the receiver writes these packets, not us).
 *
 * No imports (the plain-node media process loads it) and no throw: whatever cannot be read is skipped,
 * and a header that cannot be trusted ends the walk (its length is all there is to find the next one).
 */

const PT_SR = 200;
const PT_RR = 201;
const PT_PSFB = 206;
const FMT_AFB = 15; // application layer feedback; REMB is the one with the 'REMB' identifier
const REMB_ID = 0x52454d42; // 'REMB'
const HEADER_BYTES = 4;
const RR_HEADER_BYTES = 8; // header + reporter SSRC
const SR_HEADER_BYTES = 28; // header + reporter SSRC + sender info
const REPORT_BLOCK_BYTES = 24;
const REMB_MIN_BYTES = 20; // header, two SSRCs, 'REMB', num SSRC / exponent / mantissa
/** Seconds from 1900 (NTP) to 1970 (Unix). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;

export type RtcpFeedbackItem =
  | { kind: 'remb'; bps: number; ssrcs: number[] }
  | {
      kind: 'report';
      /** The reportee: the SSRC this block is about (ours). */
      ssrc: number;
      /** 0..1 (the 8-bit fixed point / 256), since the previous report. */
      fractionLost: number;
      /** Signed (duplicates can make it negative). */
      cumulativeLost: number;
      highestSeq: number;
      /** In RTP timestamp units. */
      jitter: number;
      /** Middle 32 bits of the NTP time of our last SR, 0 if none yet. */
      lsr: number;
      /** Delay since that SR, in 1/65536 s. */
      dlsr: number;
    };

/**
 * Walks a compound RTCP packet; returns REMBs and report blocks in order. Every read is
 * bounds-checked, so malformed input yields fewer items, never a throw (the spec fuzzes it).
 */
export function parseRtcpFeedback(buf: Uint8Array): RtcpFeedbackItem[] {
  const out: RtcpFeedbackItem[] = [];
  if (!(buf instanceof Uint8Array)) return out;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let at = 0; at + HEADER_BYTES <= buf.length; ) {
    if (buf[at] >> 6 !== 2) break;
    const count = buf[at] & 0x1f; // RC for reports, FMT for feedback
    const type = buf[at + 1];
    const end = at + 4 * (view.getUint16(at + 2) + 1);
    if (end > buf.length) break;
    if (type === PT_RR || type === PT_SR) {
      const first = at + (type === PT_RR ? RR_HEADER_BYTES : SR_HEADER_BYTES);
      for (let i = 0, b = first; i < count && b + REPORT_BLOCK_BYTES <= end; i++, b += REPORT_BLOCK_BYTES) {
        out.push({
          kind: 'report',
          ssrc: view.getUint32(b),
          fractionLost: buf[b + 4] / 256,
          cumulativeLost: (view.getUint32(b + 4) << 8) >> 8, // low 24 bits, sign-extended
          highestSeq: view.getUint32(b + 8),
          jitter: view.getUint32(b + 12),
          lsr: view.getUint32(b + 16),
          dlsr: view.getUint32(b + 20),
        });
      }
    } else if (type === PT_PSFB && count === FMT_AFB && end - at >= REMB_MIN_BYTES && view.getUint32(at + 12) === REMB_ID) {
      const numSsrc = buf[at + 16];
      const exponent = buf[at + 17] >> 2;
      const mantissa = ((buf[at + 17] & 0x03) << 16) | view.getUint16(at + 18);
      const ssrcs: number[] = [];
      for (let i = 0, s = at + REMB_MIN_BYTES; i < numSsrc && s + 4 <= end; i++, s += 4) ssrcs.push(view.getUint32(s));
      out.push({ kind: 'remb', bps: mantissa * 2 ** exponent, ssrcs }); // 2 ** : exponents reach 63
    }
    at = end;
  }
  return out;
}

/** The middle 32 bits of the NTP time for a Unix time in ms (what an SR's LSR echoes). */
export function ntpMiddle32(unixMs: number): number {
  if (!Number.isFinite(unixMs)) return 0;
  // Split seconds and fraction: NTP time × 65536 does not fit a double's integer range.
  const seconds = Math.floor(unixMs / 1000);
  const fraction = Math.floor(((unixMs - seconds * 1000) * 65536) / 1000);
  return ((((seconds + NTP_UNIX_OFFSET_S) % 65536) + 65536) % 65536) * 65536 + fraction;
}

/**
 * Round trip from a report block (RFC 3550 §6.4.1): now − LSR − DLSR, in ms; null without an SR to
 * echo (LSR 0) or when the result would be negative (clocks or a stale block).
 */
export function rttFromReport(lsr: number, dlsr: number, nowNtpMiddle32: number): number | null {
  if (![lsr, dlsr, nowNtpMiddle32].every(Number.isFinite) || lsr === 0) return null;
  const units = (nowNtpMiddle32 - lsr - dlsr) >>> 0; // mod 2^32: the middle bits wrap every 18 h
  if (units >= 0x80000000) return null;
  return (units * 1000) / 65536;
}

/** A REMB (builder for tests and tools): the bitrate as an 18-bit mantissa and 6-bit exponent. */
export function buildRemb(senderSsrc: number, bps: number, ssrcs: number[]): Uint8Array {
  let exponent = 0;
  let mantissa = Math.max(0, Math.floor(bps));
  while (mantissa >= 1 << 18 && exponent < 63) {
    exponent++;
    mantissa = Math.floor(bps / 2 ** exponent);
  }
  mantissa = Math.min(mantissa, (1 << 18) - 1);
  const b = new Uint8Array(REMB_MIN_BYTES + 4 * ssrcs.length);
  const v = new DataView(b.buffer);
  b[0] = 0x80 | FMT_AFB;
  b[1] = PT_PSFB;
  v.setUint16(2, b.length / 4 - 1);
  v.setUint32(4, senderSsrc >>> 0);
  v.setUint32(12, REMB_ID);
  b[16] = ssrcs.length;
  b[17] = (exponent << 2) | (mantissa >> 16);
  v.setUint16(18, mantissa & 0xffff);
  ssrcs.forEach((s, i) => v.setUint32(REMB_MIN_BYTES + 4 * i, s >>> 0));
  return b;
}

/** A loss sample covers at least this much time. */
export const LOSS_WINDOW_MS = 1000;

/**
 * The video's loss over windows of at least LOSS_WINDOW_MS, for the rate controller. Not the report
 * blocks' own "fraction lost": Chromium sends a report in every compound RTCP packet, one with each
 * NACK too, so on a lossy link most reports cover a few tens of ms, say 0, and (weighted like any
 * other) smoothed a real 10 % away; and a packet NACKed back before the report counts as received.
 * So: from the blocks' cumulative counters (what was never received, over what was expected), or,
 * when more, the distinct sequence numbers NACKed in the window over what was expected: the loss on
 * the wire before retransmission, which is what a policer's drops look like when NACKs hide them.
 */
export class LossMeter {
  private start: { at: number; lost: number; seq: number } | null = null;
  private readonly nacked = new Set<number>();

  onNack(sequences: number[]): void {
    for (const s of sequences) this.nacked.add(s & 0xffff);
  }

  /** A report block about our video; returns the fraction lost (0..1) over the window it closes, else null. */
  onReport(block: { cumulativeLost: number; highestSeq: number }, nowMs: number): number | null {
    if (!Number.isFinite(nowMs)) return null;
    if (this.start === null || nowMs < this.start.at) {
      this.start = { at: nowMs, lost: block.cumulativeLost, seq: block.highestSeq };
      this.nacked.clear();
      return null;
    }
    if (nowMs - this.start.at < LOSS_WINDOW_MS) return null;
    // Extended highest sequence numbers: a difference mod 2^32; a huge one is a reset, not traffic.
    const expected = (block.highestSeq - this.start.seq) >>> 0;
    const lost = block.cumulativeLost - this.start.lost;
    // Only packets of this window: a receiver NACKs a packet that never comes again and again.
    let nacked = 0;
    for (const seq of this.nacked) {
      const d = (seq - this.start.seq) & 0xffff;
      if (d >= 1 && d <= expected) nacked++;
    }
    this.start = { at: nowMs, lost: block.cumulativeLost, seq: block.highestSeq };
    this.nacked.clear();
    if (expected === 0 || expected > 0x7fffffff) return null;
    return Math.min(1, Math.max(0, lost / expected, nacked / expected));
  }
}

export interface ReportBlock {
  ssrc: number;
  /** 0..1, written as the 8-bit fixed point (rounded down, at most 255/256). */
  fractionLost: number;
  cumulativeLost?: number;
  highestSeq?: number;
  jitter?: number;
  lsr?: number;
  dlsr?: number;
}

/** A receiver report (builder for tests and tools). */
export function buildReceiverReport(senderSsrc: number, blocks: ReportBlock[]): Uint8Array {
  const b = new Uint8Array(RR_HEADER_BYTES + REPORT_BLOCK_BYTES * blocks.length);
  const v = new DataView(b.buffer);
  b[0] = 0x80 | blocks.length;
  b[1] = PT_RR;
  v.setUint16(2, b.length / 4 - 1);
  v.setUint32(4, senderSsrc >>> 0);
  blocks.forEach((r, i) => {
    const at = RR_HEADER_BYTES + REPORT_BLOCK_BYTES * i;
    v.setUint32(at, r.ssrc >>> 0);
    v.setUint32(at + 4, ((r.cumulativeLost ?? 0) & 0xffffff) >>> 0);
    b[at + 4] = Math.min(255, Math.max(0, Math.floor(r.fractionLost * 256)));
    v.setUint32(at + 8, (r.highestSeq ?? 0) >>> 0);
    v.setUint32(at + 12, (r.jitter ?? 0) >>> 0);
    v.setUint32(at + 16, (r.lsr ?? 0) >>> 0);
    v.setUint32(at + 20, (r.dlsr ?? 0) >>> 0);
  });
  return b;
}
