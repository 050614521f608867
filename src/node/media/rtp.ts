/**
 * Just enough RTP (RFC 3550) and H.264 payload (RFC 6184) parsing to read what a media process
 * sends: which NAL units a packet carries, whether it starts a keyframe, and how to turn a
 * packet stream back into Annex-B for a decoder. Used by the tests and benchmarks that receive
 * our stream with a node-datachannel peer.
 */
export interface RtpHeader {
  version: number;
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  /** Offset of the payload in the datagram (after CSRCs, extension), before padding. */
  payloadOffset: number;
  payloadEnd: number;
}

export function parseRtpHeader(packet: Uint8Array): RtpHeader | null {
  if (packet.length < 12) return null;
  const version = packet[0] >> 6;
  if (version !== 2) return null;
  const padding = (packet[0] & 0x20) !== 0;
  const extension = (packet[0] & 0x10) !== 0;
  const csrcCount = packet[0] & 0x0f;
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  let offset = 12 + 4 * csrcCount;
  if (extension) {
    if (packet.length < offset + 4) return null;
    offset += 4 + 4 * view.getUint16(offset + 2);
  }
  let end = packet.length;
  if (padding) end -= packet[packet.length - 1];
  if (offset > end) return null;
  return {
    version,
    marker: (packet[1] & 0x80) !== 0,
    payloadType: packet[1] & 0x7f,
    sequence: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    payloadOffset: offset,
    payloadEnd: end,
  };
}

export const H264_NAL = { nonIdr: 1, idr: 5, sei: 6, sps: 7, pps: 8, aud: 9, stapA: 24, fuA: 28 } as const;

/**
 * NAL unit types carried by one H.264 RTP payload: the single NAL type, every NAL inside a
 * STAP-A, or the type of the fragmented NAL for an FU-A (with whether this is its start).
 */
export function h264PayloadNalTypes(payload: Uint8Array): { types: number[]; fragmentStart: boolean } {
  if (payload.length === 0) return { types: [], fragmentStart: false };
  const type = payload[0] & 0x1f;
  if (type === H264_NAL.stapA) {
    const types: number[] = [];
    for (let at = 1; at + 2 < payload.length; ) {
      const size = (payload[at] << 8) | payload[at + 1];
      if (size === 0 || at + 2 + size > payload.length) break;
      types.push(payload[at + 2] & 0x1f);
      at += 2 + size;
    }
    return { types, fragmentStart: false };
  }
  if (type === H264_NAL.fuA) {
    if (payload.length < 2) return { types: [], fragmentStart: false };
    return { types: [payload[1] & 0x1f], fragmentStart: (payload[1] & 0x80) !== 0 };
  }
  return { types: [type], fragmentStart: false };
}

/**
 * True when a packet opens a decodable keyframe: it carries an SPS (the encoder sends SPS/PPS
 * right before each IDR), an IDR slice, or the first fragment of an IDR slice.
 */
export function isH264KeyframeStart(payload: Uint8Array): boolean {
  const { types, fragmentStart } = h264PayloadNalTypes(payload);
  if ((payload[0] & 0x1f) === H264_NAL.fuA) return fragmentStart && types[0] === H264_NAL.idr;
  return types.includes(H264_NAL.sps) || types.includes(H264_NAL.idr);
}

const START_CODE = Buffer.from([0, 0, 0, 1]);

/** Reassembles H.264 RTP payloads (single NAL, STAP-A, FU-A) into an Annex-B byte stream. */
export class H264Depacketizer {
  private fragments: Buffer[] = [];

  /** Returns the Annex-B bytes completed by this payload (possibly empty). */
  push(payload: Uint8Array): Buffer {
    const p = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    if (p.length === 0) return Buffer.alloc(0);
    const type = p[0] & 0x1f;
    if (type === H264_NAL.stapA) {
      const out: Buffer[] = [];
      for (let at = 1; at + 2 < p.length; ) {
        const size = p.readUInt16BE(at);
        if (size === 0 || at + 2 + size > p.length) break;
        out.push(START_CODE, p.subarray(at + 2, at + 2 + size));
        at += 2 + size;
      }
      return Buffer.concat(out);
    }
    if (type === H264_NAL.fuA) {
      if (p.length < 2) return Buffer.alloc(0);
      const start = (p[1] & 0x80) !== 0;
      const end = (p[1] & 0x40) !== 0;
      if (start) this.fragments = [Buffer.from([(p[0] & 0xe0) | (p[1] & 0x1f)])];
      else if (this.fragments.length === 0) return Buffer.alloc(0); // lost the start
      this.fragments.push(p.subarray(2));
      if (!end) return Buffer.alloc(0);
      const nal = Buffer.concat(this.fragments);
      this.fragments = [];
      return Buffer.concat([START_CODE, nal]);
    }
    return Buffer.concat([START_CODE, p]);
  }
}
