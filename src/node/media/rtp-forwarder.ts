/**
 * Turns the encoder's RTP datagrams into the packets one peer's track sends, in place and
 * without depacketizing (DESIGN.md: forwarding ffmpeg's own packets is what reaches ~20 ms
 * capture -> present; repacketizing Annex-B cost 55 ms).
 *
 * Per packet it rewrites:
 * - payload type and SSRC to the negotiated ones (each peer has its own SSRCs);
 * - sequence number and RTP timestamp only across an encoder restart. ffmpeg starts every run
 *   with a fresh random sequence number and timestamp base; passed through, the receiver would
 *   see one SSRC jump backwards or thousands of "lost" packets (Chrome then clears its NACK
 *   list and asks for a keyframe, which would restart the encoder again), and the NACK buffer
 *   would confuse old and new packets with equal sequence numbers. So on a discontinuity the
 *   output continues at last+1 and last timestamp + elapsed wall time. While the encoder runs
 *   the offsets stay fixed, so losses between ffmpeg and us remain visible gaps that the
 *   receiver NACKs (and then PLIs when NACK cannot help).
 *
 * Video is gated: nothing goes out until a packet that starts an IDR (SPS, STAP-A with an
 * SPS, IDR slice, or the first FU-A fragment of one), so a new viewer's first frame decodes.
 * The gate closes again at a discontinuity and reopens at the new encoder's first IDR.
 *
 * Header extensions: once the answer accepted the playout-delay extension, `forward()` gives
 * every packet it (min = max = 0), which moves Chrome to its low-latency renderer: a frame is
 * presented as soon as it is decoded instead of at the render time its RTP timestamp and the
 * jitter buffer's target delay give it.
 */
import { isH264KeyframeStart, parseRtpHeader } from './rtp';

/** RTP header extension: the receiver's playout delay bounds (min and max, 12 bits each, 10 ms units). */
export const PLAYOUT_DELAY_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay';
/** min = max = 0: render each frame as soon as it is decoded. */
export const PLAYOUT_DELAY_ZERO: Readonly<Uint8Array> = new Uint8Array([0, 0, 0]);
const ONE_BYTE_PROFILE = 0xbede;

/**
 * `packet` (a valid RTP packet) with a one-byte-header extension block (RFC 8285, profile
 * 0xBEDE) that holds the single element `id` = `data`, as a new buffer; the fixed header,
 * CSRCs, payload and RTP padding are copied unchanged and the X bit is set.
 *
 * An extension block the packet already has (ffmpeg 5.1 writes none) is replaced, not merged:
 * its element ids were never negotiated with this receiver (our offer's extmap is the only
 * agreement it has), so forwarded they would mean nothing or, once an id of ours collides,
 * the wrong thing.
 */
export function withRtpHeaderExtension(packet: Uint8Array, id: number, data: Uint8Array): Buffer {
  if (!Number.isInteger(id) || id < 1 || id > 14) throw new RangeError(`one-byte header extension id ${id} is not within 1-14`);
  if (data.length < 1 || data.length > 16) throw new RangeError(`one-byte header extension data of ${data.length} bytes is not within 1-16`);
  const csrcEnd = 12 + 4 * (packet[0] & 0x0f);
  let payloadStart = csrcEnd;
  if (packet[0] & 0x10) payloadStart += 4 + 4 * ((packet[csrcEnd + 2] << 8) | packet[csrcEnd + 3]);
  if (payloadStart > packet.length) throw new RangeError('the RTP header is longer than the packet');
  const words = Math.ceil((1 + data.length) / 4);
  const extEnd = csrcEnd + 4 + 4 * words;
  const out = Buffer.alloc(extEnd + packet.length - payloadStart); // zeroed: the element's trailing padding
  out.set(packet.subarray(0, csrcEnd), 0);
  out[0] |= 0x10;
  out.writeUInt16BE(ONE_BYTE_PROFILE, csrcEnd);
  out.writeUInt16BE(words, csrcEnd + 2);
  out[csrcEnd + 4] = (id << 4) | (data.length - 1);
  out.set(data, csrcEnd + 5);
  out.set(packet.subarray(payloadStart), extEnd);
  return out;
}

export interface RtpForwarderOptions {
  kind: 'video' | 'audio';
  /** What the encoder writes; datagrams with another payload type (stray RTCP, junk) are dropped. */
  inputPayloadType: number;
  outputPayloadType: number;
  outputSsrc: number;
  clockRate: number;
  /** Video: hold everything until the start of an IDR. */
  waitForKeyframe: boolean;
  now?: () => number;
}

export type ForwardVerdict = 'forward' | 'not-rtp' | 'waiting-for-keyframe';

/** Sequence gaps up to this are loss or reordering inside one encoder run; beyond, a new run. */
const MAX_SEQUENCE_GAP = 512;
/** RTP timestamp jumps beyond this many seconds mean a new encoder run as well. */
const MAX_TIMESTAMP_JUMP_SECONDS = 10;

export class RtpForwarder {
  readonly stats = { forwarded: 0, notRtp: 0, gated: 0, discontinuities: 0 };
  /** Called when a discontinuity did not start at a keyframe: the gate needs one (rate-limit upstream). */
  onKeyframeNeeded: (() => void) | null = null;

  private gateOpen: boolean;
  private started = false;
  /** A new encoder run was seen: offsets are recomputed at the next forwarded packet. */
  private pendingRebase = false;
  private seqOffset = 0;
  private tsOffset = 0;
  private lastInSeq = 0;
  private lastInTs = 0;
  private lastOutSeq = 0;
  private lastOutTs = 0;
  private lastArrival = 0;
  private readonly now: () => number;
  /** The negotiated payload type (settable: the answer has the last word). */
  outputPayloadType: number;
  /** The playout-delay extension's id as the answer accepted it; null: not negotiated, not sent. */
  playoutDelayExtensionId: number | null = null;

  constructor(private readonly opts: RtpForwarderOptions) {
    this.gateOpen = !opts.waitForKeyframe;
    this.outputPayloadType = opts.outputPayloadType;
    this.now = opts.now ?? (() => performance.now());
  }

  /** True once video has started at a keyframe (always true for audio). */
  get flowing(): boolean {
    return this.gateOpen;
  }

  /**
   * `process()`, then the negotiated header extensions: the datagram to send (`packet` itself
   * or, with an extension, a copy), or null when it is not to be sent.
   */
  forward(packet: Buffer): Buffer | null {
    if (this.process(packet) !== 'forward') return null;
    const id = this.playoutDelayExtensionId;
    return id === null ? packet : withRtpHeaderExtension(packet, id, PLAYOUT_DELAY_ZERO);
  }

  /**
   * Decides about one datagram and, when it is to be sent, rewrites it in place.
   * The caller sends `packet` only when the verdict is 'forward'.
   */
  process(packet: Buffer): ForwardVerdict {
    const h = parseRtpHeader(packet);
    if (!h || h.payloadType !== this.opts.inputPayloadType) {
      this.stats.notRtp++;
      return 'not-rtp';
    }
    const arrival = this.now();
    if (this.started && !this.pendingRebase) {
      const seqGap = (h.sequence - this.lastInSeq) & 0xffff; // 1 = the next packet
      const tsJump = Math.abs((h.timestamp - this.lastInTs) | 0);
      if ((seqGap > MAX_SEQUENCE_GAP && seqGap < 0x10000 - MAX_SEQUENCE_GAP) || tsJump > MAX_TIMESTAMP_JUMP_SECONDS * this.opts.clockRate) {
        this.stats.discontinuities++;
        this.pendingRebase = true;
        if (this.opts.waitForKeyframe) this.gateOpen = false;
      }
    }
    if (!this.gateOpen) {
      if (!isH264KeyframeStart(packet.subarray(h.payloadOffset, h.payloadEnd))) {
        this.stats.gated++;
        // A restarted encoder starts with an IDR; gated in the middle of a run, we need one.
        if (this.pendingRebase) this.onKeyframeNeeded?.();
        return 'waiting-for-keyframe';
      }
      this.gateOpen = true;
    }
    let newer: boolean;
    if (!this.started) {
      // A fresh peer: sequence numbers and timestamps pass through unchanged.
      this.started = true;
      newer = true;
    } else if (this.pendingRebase) {
      // Continue where the receiver left off, as if the gap were the time that passed.
      const elapsed = Math.max(1, Math.round(((arrival - this.lastArrival) * this.opts.clockRate) / 1000));
      this.seqOffset = (this.lastOutSeq + 1 - h.sequence) & 0xffff;
      this.tsOffset = (this.lastOutTs + elapsed - h.timestamp) >>> 0;
      this.pendingRebase = false;
      newer = true;
    } else {
      // Reordered (older) packets keep the mapping but do not move "last".
      newer = ((h.sequence - this.lastInSeq) & 0xffff) < 0x8000;
    }

    const seq = (h.sequence + this.seqOffset) & 0xffff;
    const ts = (h.timestamp + this.tsOffset) >>> 0;
    packet[1] = (packet[1] & 0x80) | (this.outputPayloadType & 0x7f);
    packet.writeUInt16BE(seq, 2);
    packet.writeUInt32BE(ts, 4);
    packet.writeUInt32BE(this.opts.outputSsrc >>> 0, 8);
    if (newer) {
      this.lastInSeq = h.sequence;
      this.lastInTs = h.timestamp;
      this.lastOutSeq = seq;
      this.lastOutTs = ts;
      this.lastArrival = arrival;
    }
    this.stats.forwarded++;
    return 'forward';
  }
}
