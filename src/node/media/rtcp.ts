/**
 * Just enough RTCP (RFC 3550, RFC 4585, RFC 5104) to see what a receiver asks of the sender:
 * PLI and FIR (a keyframe), generic NACK (retransmissions; answered by libdatachannel's
 * RtcpNackResponder, counted here for logs), and sender reports (read by tests).
 */

export const RTCP_PT = { sr: 200, rr: 201, sdes: 202, bye: 203, rtpfb: 205, psfb: 206 } as const;

export type RtcpFeedback =
  | { kind: 'pli'; mediaSsrc: number }
  | { kind: 'fir'; mediaSsrcs: number[] }
  | { kind: 'nack'; mediaSsrc: number; sequences: number[] }
  | { kind: 'sr'; ssrc: number; ntp: bigint; rtpTimestamp: number; packetCount: number; octetCount: number }
  | { kind: 'other'; packetType: number; format: number };

/** True for a datagram that is RTCP rather than RTP (RFC 5761 demultiplexing). */
export function isRtcp(packet: Uint8Array): boolean {
  return packet.length >= 8 && packet[0] >> 6 === 2 && packet[1] >= 192 && packet[1] <= 223;
}

/** Walks a (compound) RTCP packet; stops at the first malformed part. */
export function parseRtcp(packet: Uint8Array): RtcpFeedback[] {
  const out: RtcpFeedback[] = [];
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  for (let at = 0; at + 4 <= packet.length; ) {
    if (packet[at] >> 6 !== 2) break;
    const format = packet[at] & 0x1f;
    const type = packet[at + 1];
    const size = 4 * (view.getUint16(at + 2) + 1);
    if (at + size > packet.length) break;
    const end = at + size;
    if (type === RTCP_PT.psfb && format === 1 && size >= 12) {
      out.push({ kind: 'pli', mediaSsrc: view.getUint32(at + 8) });
    } else if (type === RTCP_PT.psfb && format === 4 && size >= 12) {
      // FIR: the media SSRC field is unused; each 8-byte FCI names an SSRC.
      const mediaSsrcs: number[] = [];
      for (let f = at + 12; f + 8 <= end; f += 8) mediaSsrcs.push(view.getUint32(f));
      out.push({ kind: 'fir', mediaSsrcs });
    } else if (type === RTCP_PT.rtpfb && format === 1 && size >= 12) {
      const sequences: number[] = [];
      for (let f = at + 12; f + 4 <= end; f += 4) {
        const pid = view.getUint16(f);
        const blp = view.getUint16(f + 2);
        sequences.push(pid);
        for (let bit = 0; bit < 16; bit++) if (blp & (1 << bit)) sequences.push((pid + bit + 1) & 0xffff);
      }
      out.push({ kind: 'nack', mediaSsrc: view.getUint32(at + 8), sequences });
    } else if (type === RTCP_PT.sr && size >= 28) {
      out.push({
        kind: 'sr',
        ssrc: view.getUint32(at + 4),
        ntp: view.getBigUint64(at + 8),
        rtpTimestamp: view.getUint32(at + 16),
        packetCount: view.getUint32(at + 20),
        octetCount: view.getUint32(at + 24),
      });
    } else {
      out.push({ kind: 'other', packetType: type, format });
    }
    at = end;
  }
  return out;
}

/** A generic NACK (RFC 4585 §6.2.1) for the given sequence numbers. */
export function buildNack(senderSsrc: number, mediaSsrc: number, sequences: number[]): Buffer {
  const fci: Array<[number, number]> = [];
  for (const seq of [...new Set(sequences.map((s) => s & 0xffff))].sort((a, b) => a - b)) {
    const last = fci[fci.length - 1];
    const delta = last ? (seq - last[0]) & 0xffff : 0;
    if (last && delta >= 1 && delta <= 16) last[1] |= 1 << (delta - 1);
    else fci.push([seq, 0]);
  }
  const b = Buffer.alloc(12 + 4 * fci.length);
  b[0] = 0x80 | 1;
  b[1] = RTCP_PT.rtpfb;
  b.writeUInt16BE(b.length / 4 - 1, 2);
  b.writeUInt32BE(senderSsrc >>> 0, 4);
  b.writeUInt32BE(mediaSsrc >>> 0, 8);
  fci.forEach(([pid, blp], i) => {
    b.writeUInt16BE(pid, 12 + 4 * i);
    b.writeUInt16BE(blp, 14 + 4 * i);
  });
  return b;
}

/** A picture loss indication (RFC 4585 §6.3.1). */
export function buildPli(senderSsrc: number, mediaSsrc: number): Buffer {
  const b = Buffer.alloc(12);
  b[0] = 0x80 | 1;
  b[1] = RTCP_PT.psfb;
  b.writeUInt16BE(2, 2);
  b.writeUInt32BE(senderSsrc >>> 0, 4);
  b.writeUInt32BE(mediaSsrc >>> 0, 8);
  return b;
}

/** A full intra request (RFC 5104 §4.3.1). */
export function buildFir(senderSsrc: number, mediaSsrc: number, sequence: number): Buffer {
  const b = Buffer.alloc(20);
  b[0] = 0x80 | 4;
  b[1] = RTCP_PT.psfb;
  b.writeUInt16BE(4, 2);
  b.writeUInt32BE(senderSsrc >>> 0, 4);
  b.writeUInt32BE(0, 8);
  b.writeUInt32BE(mediaSsrc >>> 0, 12);
  b[16] = sequence & 0xff;
  return b;
}
