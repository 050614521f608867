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
 */
import { isH264KeyframeStart, parseRtpHeader } from '../runtime/rtp';

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
