/**
 * Sender-side video rate control from WebRTC receiver feedback (REMB, loss samples, RTT),
 * for an encoder whose bitrate, frame rate and size can change between frames. libdatachannel has
 * no congestion control of its own. The rules and constants are explained in RATE-CONTROL.md.
 *
 * Pure and deterministic: no timers, no clock; every call takes `nowMs` (any monotonic ms clock).
 * No imports, so the plain-node media process can load it as is.
 */

/** Probing: multiplicative increase per second while loss is low (GCC's 8 %/s). */
export const INCREASE_PER_S = 1.08;
/** Smoothed loss below this: probe upward; between LOW and HIGH: hold (GCC's 2 % / 10 %). */
export const LOSS_LOW = 0.02;
export const LOSS_HIGH = 0.1;
/** Weight of a new loss sample (rtcp-feedback.ts's LossMeter: ~1 s each) in the smoothed loss... */
export const LOSS_SMOOTHING = 0.5;
/**
 * ... and of one under it: loss is forgotten faster than it is learned. After a collapse (a start
 * into a narrow link: samples of 80-90 % while resends of the old rate drain) clean samples took
 * ~6 s to bring the smoothed loss under LOSS_LOW, and the stream waited at the hard floor and
 * 15 fps for them; now ~3 s.
 */
export const LOSS_DECAY = 0.75;
/** Weight of a new RTT sample in the smoothed RTT. */
export const RTT_SMOOTHING = 0.25;
/** RTT this far above the path's base RTT means a queue is building: stop probing. */
export const RTT_QUEUE_MS = 150;
/** The base RTT creeps up this fast so a longer route is eventually accepted as the new base. */
export const BASE_RTT_DRIFT_MS_PER_S = 10;
/** RTT samples above this are junk (an LSR from another epoch), not a path. */
export const MAX_RTT_MS = 10_000;
/** What one loss sample covers (the media process measures loss over ~1 s windows: rtcp-feedback.ts). */
export const LOSS_SAMPLE_SPAN_MS = 1000;
/**
 * After the rate falls (by any rule, the REMB cap included), loss samples are ignored (for
 * decreasing) for 2 x RTT + a sample's span, within these bounds: a sample covers the second before
 * it, and the bottleneck's queue, filled at the old rate, drains for a while after the decrease, so
 * the next sample or two still describe the old rate. Acting on each of them again is what took a
 * 226 kb/s cap down to 40 kb/s.
 */
export const DECREASE_HOLDOFF_RTT_FACTOR = 2;
export const DECREASE_HOLDOFF_MIN_MS = 1000;
export const DECREASE_HOLDOFF_MAX_MS = 3000;
/** RTT assumed for the holdoff before any RTT sample. */
export const DEFAULT_RTT_MS = 200;
/**
 * Loss never takes the rate below this fraction of a fresh REMB: Chromium's REMB follows what
 * actually arrives (about 0.85-1.05 x the bottleneck once it is hit), so 0.85 x REMB is under the
 * bottleneck already; lower only starves the stream (the REMB itself still caps the rate).
 */
export const LOSS_FLOOR_OF_REMB = 0.85;
/**
 * The target stays this far under the REMB. A policer with a per-second byte budget (coturn's
 * max-bps) drops the tail of every second that exceeds it; at the REMB (~1.05 x such a cap, and it
 * counts no SRTP, UDP or TURN bytes) the last packets of most seconds were lost and NACKed back a
 * fraction of a second later: no loss in the receiver reports, but a freeze every second.
 */
export const REMB_HEADROOM = 0.9;
/** A REMB this much under the previous one is the receiver seeing overuse. */
export const REMB_DROP = 0.9;
/**
 * A REMB fall this soon after a probe began is not overuse: the probe's first frame at the richer
 * size is an IDR several times a usual frame, sent in one burst (nothing paces it), and Chromium's
 * delay-based detector reads the burst as a queue (bench, an open link: the REMB fell 20-60 % some
 * 200 ms after each step up, without loss, and recovered). The probe is judged on what follows.
 */
export const PROBE_BURST_GRACE_MS = 500;
/** A REMB this recent counts as evidence of what the path delivers (Chromium sends one every ~200 ms). */
export const REMB_FRESH_MS = 1000;
/** Without any feedback for this long the rate holds (no blind probing). Chromium reports every 0.2-1.5 s. */
export const FEEDBACK_TIMEOUT_MS = 3000;
/** Longest step taken by one update: a stalled caller must not turn into a jump. */
export const MAX_UPDATE_STEP_MS = 1000;
/** The bitrate never goes below this (libwebrtc's minimum video bitrate), whatever the feedback. */
export const HARD_FLOOR_KBPS = 30;
/**
 * Bits per pixel per frame may fall to this fraction of the density the application's min gives at
 * full size and frame rate before the pixel rate is cut: x264 degrades gracefully down to about half
 * of a sane min, and each size change costs a keyframe.
 */
export const FLOOR_FRACTION = 0.5;
/**
 * A richer rung needs this much headroom over its floor, and the current rung this much age; the climb
 * goes straight to the richest rung the rate affords with that margin. Flapping is already prevented
 * by the margin and the probing pace: after a drop below a floor, reaching 1.2 x that floor at 8 %/s
 * takes at least ln 1.2 / ln 1.08 = 2.4 s.
 */
export const RUNG_UP_MARGIN = 1.2;
export const RUNG_HOLD_MS = 1000;
/**
 * Application-limited: the encoder produced (`onSent`) less than this fraction of the target, in every
 * report for this long. Chromium's REMB then follows what arrives (<= 1.5 x incoming + 10 kb/s), not
 * the link, so it must neither pull the ladder down nor stop it climbing (RATE-CONTROL.md, rule 6).
 */
export const APP_LIMITED_FRACTION = 0.6;
export const APP_LIMITED_MS = 2000;
/** Chromium's REMB never exceeds this x what arrives + REMB_REACH_KBPS (libwebrtc's AimdRateControl). */
export const REMB_REACH = 1.5;
export const REMB_REACH_KBPS = 10;
/**
 * A sender whose content nearly fills its target but cannot lift the REMB to the next rung probes it
 * only after this long without loss (a sample of 2 % or more) or a falling REMB: such a probe is a
 * real step up on the wire, so on a link that stays narrow it costs ~1 s of loss each time (≥ 95 %
 * of the time clean); one that opened is found within this long.
 */
export const BOUND_PROBE_QUIET_MS = 20_000;
/** What an `onSent` report covers (the caller reports about once a second). */
export const SENT_REPORT_SPAN_MS = 1000;
/**
 * After a loss decrease, no app-limited probe (rule 6) for this long; each decrease within
 * PROBE_BACKOFF_RESET_MS of the previous one doubles it, up to the max (a narrow link is not re-probed
 * every few seconds, and a link that opened again is found within ~10 s).
 */
export const PROBE_BACKOFF_MIN_MS = 5000;
export const PROBE_BACKOFF_MAX_MS = 10_000;
export const PROBE_BACKOFF_RESET_MS = 30_000;
/**
 * Loss that persists (this much, and at most LOSS_HIGH, in PERSISTENT_SAMPLES samples in a row, each
 * begun after the last cut) is congestion the REMB does not show: a policer (coturn's max-bps, a
 * shaped uplink) drops what exceeds it without building a queue, so Chromium's delay-based estimate
 * sits above the cap while part of every second is lost and the picture freezes. Wi-Fi-like random
 * loss (a few %, uncorrelated) rarely gives two such samples in a row.
 */
export const LOSS_PERSISTENT = 0.04;
export const PERSISTENT_SAMPLES = 2;
/**
 * A REMB that fell (or first came) while loss went on is trusted as rule 1's floor for this long: a
 * collapse's drain (the resends of the old rate) lasted 2-4 s after it in the bench's start into a
 * capped link. Loss that outlasts it is the link's, and a REMB above what is sent has not seen it.
 */
export const BLIND_REMB_MS = 5000;
/** After such a decrease, the rate sits this far under what was delivered. */
export const PERSISTENT_BACKOFF = 0.95;
/** ... and probing stops under the delivered rate (the ceiling) for this long. */
export const CEILING_MS = 10_000;

/** Decisions closer than this (and with the same fps and size) are not worth an encoder change. */
export const SIGNIFICANT_CHANGE = 0.05;

/** Limits to fall back on when the caller's are not numbers: Anbox Cloud's 720p30 range. */
const FALLBACK = { minKbps: 1000, maxKbps: 3000 };

export type Degradation = 'resolution-first' | 'framerate-first';

/** Rungs from richest to poorest: a fraction of the application's fps and of its width/height. */
export const LADDERS: Record<Degradation, ReadonlyArray<{ fps: number; scale: number }>> = {
  // Default: an interactive app stays fluid; a smaller picture also makes smaller keyframes. The
  // sizes are libwebrtc's own steps (alternately 3/4 and 2/3 of the previous: 1, 3/4, 1/2, 3/8).
  'resolution-first': [
    { fps: 1, scale: 1 },
    { fps: 1, scale: 0.75 },
    { fps: 1, scale: 0.5 },
    { fps: 1, scale: 0.375 },
    { fps: 2 / 3, scale: 0.375 },
    { fps: 1 / 2, scale: 0.375 },
  ],
  'framerate-first': [
    { fps: 1, scale: 1 },
    { fps: 2 / 3, scale: 1 },
    { fps: 1 / 2, scale: 1 },
    { fps: 1 / 2, scale: 0.75 },
    { fps: 1 / 2, scale: 0.5 },
    { fps: 1 / 2, scale: 0.375 },
  ],
};

/** The smallest fraction of the source's width/height any ladder encodes at. */
export const MIN_SCALE = Math.min(...Object.values(LADDERS).flatMap((l) => l.map((r) => r.scale)));

export interface RateLimits {
  minKbps: number;
  maxKbps: number;
  /** Rate before any feedback; defaults to minKbps. */
  startKbps?: number;
  /** The application's frame rate. */
  fps: number;
  /** Which of frame rate and size goes first below the floor; default 'resolution-first'. */
  degradation?: Degradation;
}

export interface RateDecision {
  targetKbps: number;
  fps: number;
  /** 1, 0.75, 0.5, 0.375: fraction of width/height to encode at. */
  scale: number;
}

export interface RateStats extends RateDecision {
  /** Last REMB in kb/s, null if none. */
  estimateKbps: number | null;
  /** Smoothed, 0..1. */
  lossFraction: number;
  rttMs: number | null;
  /** Index in the ladder, 0 = full size and rate. */
  rung: number;
  /** Feedback values rejected as impossible (REMB <= 0, NaN, negative RTT...). */
  ignored: number;
  /** Last video bitrate reported by `onSent`, null if never. */
  sentKbps: number | null;
  /** Sending well under the target (rule 6): the REMB then measures our sending, not the link. */
  appLimited: boolean;
}

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

interface Limits {
  minKbps: number;
  maxKbps: number;
  startKbps: number;
  fps: number;
  floorKbps: number;
  ladder: ReadonlyArray<{ fps: number; scale: number }>;
}

/** Limits made usable whatever the configuration says (the media process must not die of a typo). */
function normalise(l: RateLimits): Limits {
  const maxKbps = finite(l.maxKbps) && l.maxKbps > 0 ? Math.max(HARD_FLOOR_KBPS, l.maxKbps) : FALLBACK.maxKbps;
  const minKbps = finite(l.minKbps) && l.minKbps > 0 ? Math.min(l.minKbps, maxKbps) : Math.min(FALLBACK.minKbps, maxKbps);
  const startKbps = clamp(finite(l.startKbps) ? l.startKbps : minKbps, HARD_FLOOR_KBPS, maxKbps);
  const fps = finite(l.fps) && l.fps >= 1 ? l.fps : 30;
  return { minKbps, maxKbps, startKbps, fps, floorKbps: minKbps * FLOOR_FRACTION, ladder: LADDERS[l.degradation ?? 'resolution-first'] ?? LADDERS['resolution-first'] };
}

export class RateController {
  private readonly limits: Limits;
  private rate: number;
  private rung = 0;
  private rungSince: number | null = null;
  private remb: number | null = null;
  private lastRembAt: number | null = null;
  private loss = 0;
  /** The worst loss sample since the last update. */
  private pendingLoss: number | null = null;
  private rtt: number | null = null;
  private baseRtt: number | null = null;
  private lastRttAt: number | null = null;
  private lastFeedbackAt: number | null = null;
  private lastBackoffAt: number | null = null;
  private lastUpdateAt: number | null = null;
  private ignored = 0;
  private sent: number | null = null;
  private lastSentAt: number | null = null;
  /** First of the current run of `onSent` reports under APP_LIMITED_FRACTION x target. */
  private appLimitedSince: number | null = null;
  private appLimited = false;
  /** Since when every `onSent` report was too little for the REMB ever to afford the next richer rung. */
  private rembBoundSince: number | null = null;
  private probeBackoffMs = PROBE_BACKOFF_MIN_MS;
  private probeBlockedUntil: number | null = null;
  /** Counted loss samples (each begun after the last cut) in a row with an overshoot's loss: LOSS_PERSISTENT..LOSS_HIGH (rule 7). */
  private overshootRun = 0;
  /** Counted loss samples in a row with loss >= LOSS_PERSISTENT (any level), and when the first was counted (rule 1's blind REMB). */
  private lossyRun = 0;
  private lossySince: number | null = null;
  private lastRembDropAt: number | null = null;
  private lastProbeAt: number | null = null;
  /** The rate an app-limited probe went to; a floor for the cap while it costs nothing (rule 6). */
  private probeFloor: number | null = null;
  /** The rate the probe on trial started from: where a probe that fails without loss returns to. */
  private probeFrom: number | null = null;
  /** When the rate last fell (by any rule, the REMB cap included). */
  private lastCutAt: number | null = null;
  /** The last loss sample of LOSS_LOW or more. */
  private lastLossyAt: number | null = null;
  private lastCountedAt: number | null = null;
  /** What a lossy link delivered (rule 7): no probing above it until `until`. */
  private ceiling: { kbps: number; until: number } | null = null;

  constructor(limits: RateLimits) {
    this.limits = normalise(limits);
    this.rate = this.limits.startKbps;
  }

  onRemb(bps: number, nowMs: number): void {
    // A receiver that decoded our packets cannot have measured zero: a 0 would collapse the stream
    // for half a minute on one bad message. Real collapse shows up as loss in the reports.
    if (!finite(bps) || bps <= 0) {
      this.ignored++;
      return;
    }
    // Chromium answers overuse by dropping its estimate (to 0.85 x what arrives); a lagging one only
    // rises. The first one counts as a drop (from no cap at all): it is what the receiver measured.
    const fell = this.remb === null || bps / 1000 < REMB_DROP * this.remb;
    const probeBurst = this.lastProbeAt !== null && nowMs - this.lastProbeAt < PROBE_BURST_GRACE_MS;
    if (fell && !probeBurst && finite(nowMs)) this.lastRembDropAt = nowMs;
    this.remb = bps / 1000;
    if (finite(nowMs)) this.lastRembAt = nowMs;
    this.heard(nowMs);
  }

  /** A loss sample over about the last second (the media process's LossMeter), with the report's RTT if any. */
  onReceiverReport(r: { fractionLost: number; rttMs?: number | null }, nowMs: number): void {
    if (!finite(r.fractionLost) || r.fractionLost < 0) {
      this.ignored++;
      return;
    }
    const sample = Math.min(1, r.fractionLost);
    this.loss += (sample < this.loss ? LOSS_DECAY : LOSS_SMOOTHING) * (sample - this.loss);
    this.pendingLoss = Math.max(this.pendingLoss ?? 0, sample);
    this.heard(nowMs);
    if (r.rttMs !== undefined && r.rttMs !== null) this.onRtt(r.rttMs, nowMs);
  }

  onRtt(rttMs: number, nowMs: number): void {
    if (!finite(rttMs) || rttMs < 0 || rttMs > MAX_RTT_MS) {
      this.ignored++;
      return;
    }
    this.rtt = this.rtt === null ? rttMs : this.rtt + RTT_SMOOTHING * (rttMs - this.rtt);
    const drift = this.baseRtt !== null && this.lastRttAt !== null && finite(nowMs) ? (Math.max(0, nowMs - this.lastRttAt) / 1000) * BASE_RTT_DRIFT_MS_PER_S : 0;
    this.baseRtt = this.baseRtt === null ? rttMs : Math.min(rttMs, this.baseRtt + drift);
    if (finite(nowMs)) this.lastRttAt = nowMs;
  }

  /**
   * The video bitrate the encoder really produced for this peer (kb/s, over about the last second);
   * call it about once a second. Optional: never called, the controller behaves as if the sender
   * always filled its target.
   */
  onSent(kbps: number, nowMs: number): void {
    if (!finite(kbps) || kbps < 0 || !finite(nowMs)) {
      this.ignored++;
      return;
    }
    this.sent = kbps;
    this.lastSentAt = nowMs;
    if (kbps < APP_LIMITED_FRACTION * this.rate) this.appLimitedSince ??= nowMs;
    else this.appLimitedSince = null;
    // What it sends caps the REMB under the next richer rung's probe for good: Chromium's estimate
    // never exceeds 1.5 x what arrives + 10 kb/s.
    const unreachable = this.rung > 0 && RUNG_UP_MARGIN * this.rungFloor(this.rung - 1) > REMB_HEADROOM * (REMB_REACH * kbps + REMB_REACH_KBPS);
    if (unreachable) this.rembBoundSince ??= nowMs;
    else this.rembBoundSince = null;
  }

  update(nowMs: number): RateDecision {
    if (!finite(nowMs)) return this.decision();
    const dt = this.lastUpdateAt === null ? 0 : clamp(nowMs - this.lastUpdateAt, 0, MAX_UPDATE_STEP_MS);
    this.lastUpdateAt = this.lastUpdateAt === null ? nowMs : Math.max(this.lastUpdateAt, nowMs);
    const { maxKbps, ladder } = this.limits;

    const holdoff = clamp(DECREASE_HOLDOFF_RTT_FACTOR * (this.rtt ?? DEFAULT_RTT_MS) + LOSS_SAMPLE_SPAN_MS, DECREASE_HOLDOFF_MIN_MS, DECREASE_HOLDOFF_MAX_MS);
    // A loss sample begun before the last cut still describes the old rate: it decreases nothing.
    const mayDecrease = this.lastCutAt === null || nowMs - this.lastCutAt >= holdoff;
    const heardLately = this.lastFeedbackAt !== null && nowMs - this.lastFeedbackAt <= FEEDBACK_TIMEOUT_MS;
    const queueing = this.rtt !== null && this.baseRtt !== null && this.rtt > this.baseRtt + RTT_QUEUE_MS;
    const reported = this.pendingLoss !== null;
    const worst = this.pendingLoss ?? 0;
    this.pendingLoss = null;
    if (worst >= LOSS_LOW) this.lastLossyAt = nowMs;
    // Samples closer together than a window are one (a storm of reports is not persistence).
    const apart = this.lastCountedAt === null || nowMs - this.lastCountedAt >= LOSS_SAMPLE_SPAN_MS / 2;
    const counted = reported && mayDecrease && apart;
    if (counted) {
      const lossy = worst >= LOSS_PERSISTENT;
      this.overshootRun = lossy && worst <= LOSS_HIGH ? this.overshootRun + 1 : 0;
      this.lossyRun = lossy ? this.lossyRun + 1 : 0;
      this.lossySince = lossy ? (this.lossySince ?? nowMs) : null;
      this.lastCountedAt = nowMs;
    }
    if (this.ceiling && nowMs >= this.ceiling.until) this.ceiling = null;
    const before = this.rate;
    if (counted && this.overshootRun >= PERSISTENT_SAMPLES) {
      // Rule 7: loss that persists, whatever the REMB says (a policer's drops build no queue, so its
      // delay-based estimate sits above the cap): under what got through in the last second (what was
      // sent, less that sample's loss), with a ceiling. Only on the counted sample that extended the
      // run (a run left over from before a cut, met by an uncounted clean sample, once set a ceiling
      // of 5 kb/s for 10 s), and only for an overshoot's run (a policer's few %): what a collapse
      // "delivered" is no measure of the link (resends of the old rate still crowd it), nor is its
      // tail falling through 4-10 % (bench: a ceiling of the 8 kb/s an app-limited sender "delivered"
      // held 15 fps for 10 s). Above LOSS_HIGH rule 1 and its REMB floor decide.
      const sent = Math.min(this.rate, this.sent ?? this.rate);
      const delivered = sent * (1 - worst);
      this.decrease(PERSISTENT_BACKOFF * delivered, nowMs);
      this.ceiling = { kbps: delivered, until: nowMs + CEILING_MS };
      this.overshootRun = 0;
    } else if (worst > LOSS_HIGH) {
      // GCC's decrease, on the worst sample since the last update, at most halving (100 % loss), but
      // not below 0.85 x a fresh REMB: that much evidently arrives. Unless that REMB is blind to the
      // loss (`rembBlind`; a policer builds no queue: bench, a REMB of 736 kb/s while 15-20 % of 140
      // was lost, for 10 s, or one rising to 200 while half of 160 was). Samples within the
      // holdoff after any cut still describe the rate before it: dropped, so a storm is one
      // decrease, a silence repeats none, and lagging samples do not compound.
      // From what was sent, when the encoder does not fill the target: cutting a target 5 x above
      // the content's rate changes nothing on the wire (bench: 3000 -> 1950 kb/s while 600 went
      // out into a 200 kb/s link, and two more seconds of it).
      if (mayDecrease) {
        const freshRemb = this.remb !== null && this.lastRembAt !== null && nowMs - this.lastRembAt <= REMB_FRESH_MS ? this.remb : null;
        const sending = this.sentRecently(nowMs) ? Math.min(this.rate, this.sent!) : this.rate;
        const floor = freshRemb !== null && !this.rembBlind(freshRemb, sending, nowMs) ? LOSS_FLOOR_OF_REMB * freshRemb : 0;
        this.decrease(Math.max(sending * (1 - 0.5 * worst), floor), nowMs);
      }
    } else if (this.loss < LOSS_LOW && heardLately && !queueing) {
      this.rate *= INCREASE_PER_S ** (dt / 1000);
    }
    // REMB is a cap, never a target: the rate climbs to it at the probing pace. Except when we send
    // well under the target (app-limited) with low loss: the REMB then follows our own sending, so
    // it must not pull the rung down (the cap is at least the rung's floor), and, with normal RTT,
    // the next richer rung is probed: the cap becomes 1.2 x its floor and the rate goes there at once
    // (the encoder does not fill it anyway; what the wire sees is the rung step).
    this.appLimited = this.sentSoFor(this.appLimitedSince, nowMs);
    let cap = this.remb === null ? Number.POSITIVE_INFINITY : REMB_HEADROOM * this.remb;
    // What went out and arrived without loss is capacity, whatever the REMB says: the REMB follows
    // what arrives, so after a dip (or a stretch of sending little) it can sit below what the link
    // demonstrably carries, and capping at it would starve the stream further (rule 3's floor).
    // Nor does such a REMB step the ladder down from a rung that is not a probe on trial (rule 6 judges
    // those): with what was sent as the cap, each poorer rung's content became the next cap (a REMB
    // that fell, loss-free, on a CPU-starved receiver took a 720p stream to 360p in 2 s, for good).
    if (this.sentRecently(nowMs) && this.loss < LOSS_LOW && worst < LOSS_LOW) {
      cap = Math.max(cap, this.sent!);
      if (this.probeFloor === null) cap = Math.max(cap, Math.min(before, this.rungFloor(this.rung)));
    }
    // Not app-limited, but sending too little for the REMB ever to afford the next rung (rule 6): after
    // a long quiet the rung is probed all the same (bench: 480x270's ~70 kb/s kept a 720p stream
    // there, the REMB at what arrived, for good after the link had opened again). A lossy sample in
    // this update is no quiet: it has just set lastLossyAt.
    const rembBound =
      this.sentSoFor(this.rembBoundSince, nowMs) && [this.lastLossyAt, this.lastRembDropAt].every((at) => at === null || nowMs - at >= BOUND_PROBE_QUIET_MS);
    if ((this.appLimited || rembBound) && this.loss < LOSS_LOW && worst <= LOSS_HIGH) {
      cap = Math.max(cap, this.rungFloor(this.rung));
      // The next probe needs evidence from this rung's content: APP_LIMITED_MS on it, and a report
      // of what was sent covering only it (a report covers about the second before it).
      const rungAge = this.rungSince === null ? Number.POSITIVE_INFINITY : nowMs - this.rungSince;
      const evidence = this.rungSince === null || this.lastSentAt! - this.rungSince >= SENT_REPORT_SPAN_MS;
      const probeAllowed = (this.probeBlockedUntil === null || nowMs >= this.probeBlockedUntil) && rungAge >= APP_LIMITED_MS && evidence;
      if (this.rung > 0 && heardLately && !queueing && probeAllowed) {
        const probe = RUNG_UP_MARGIN * this.rungFloor(this.rung - 1);
        cap = Math.max(cap, probe);
        this.probeFrom = Math.min(this.rate, cap);
        this.rate = Math.max(this.rate, probe);
        this.probeFloor = probe;
        this.lastProbeAt = nowMs;
      }
    }
    // A probe holds while it costs nothing (rule 6): the REMB follows what arrives at ~8 %/s, so
    // capping at it the moment the richer rung fills its target took the rung straight back down
    // (bench: 83 <-> 125 kb/s every few seconds, mostly at 15 fps, on a link that carried 150). It
    // goes with loss, a queue, or a falling REMB (the receiver's delay-based overuse; one still
    // catching up with us only rises).
    if (this.probeFloor !== null) {
      const overuse = this.lastRembDropAt !== null && nowMs - this.lastRembDropAt <= REMB_FRESH_MS;
      const lossy = worst > LOSS_LOW || this.loss >= LOSS_LOW;
      if (lossy || queueing || overuse) {
        // A failed probe, whatever its verdict: the next waits (a loss cut would back off anyway).
        // Without loss it returns to where it started, not to what the richer rung sent in the
        // last second: that can be under the rung before it (bench: a probe to 1280x720 that
        // Chromium's REMB answered by falling, loss-free, ended at 640x360, two rungs down).
        if (!lossy) cap = Math.max(cap, Math.min(before, this.probeFrom ?? 0));
        this.probeFloor = null;
        this.probeFrom = null;
        this.backOffProbes(nowMs);
      } else cap = Math.max(cap, this.probeFloor);
    }
    this.rate = Math.min(this.rate, cap);
    // Under a ceiling (rule 7) no increase goes past it.
    if (this.ceiling && this.rate > before) this.rate = Math.max(before, Math.min(this.rate, PERSISTENT_BACKOFF * this.ceiling.kbps));
    // Clamped before judging a cut: at the hard floor a REMB under it (after a collapse, less the
    // audio, ~1 kb/s) cuts nothing. Counted as a cut on every update, it kept the holdoff running, so
    // no loss sample was counted any more and each lossy one backed off the probes again (bench: 15 fps
    // for 11 s after a collapse instead of 3).
    this.rate = clamp(this.rate, HARD_FLOOR_KBPS, maxKbps);
    if (this.rate < (1 - SIGNIFICANT_CHANGE) * before) {
      // Cut by the REMB cap as loss came in (a probe that failed): the same backoff as a loss
      // decrease (unless one already happened in this update).
      if (worst > LOSS_LOW && this.lastCutAt !== nowMs) this.backOffProbes(nowMs);
      this.lastCutAt = nowMs;
    }

    // Pixel rate: drop at once to the richest rung the rate affords; after a hold, climb straight to
    // the richest rung it affords with a margin.
    this.rungSince ??= nowMs;
    let rung = this.rung;
    while (rung < ladder.length - 1 && this.rate < this.rungFloor(rung)) rung++;
    if (rung === this.rung && nowMs - this.rungSince >= RUNG_HOLD_MS) {
      while (rung > 0 && this.rate >= this.rungFloor(rung - 1) * RUNG_UP_MARGIN) rung--;
    }
    if (rung !== this.rung) {
      this.rung = rung;
      this.rungSince = nowMs;
    }
    return this.decision();
  }

  /** Lowers the rate (never raises it); an actual decrease is a cut (holdoff) and backs off the next app-limited probe. */
  private decrease(kbps: number, nowMs: number): void {
    // Nothing is cut at the hard floor (see update's clamp).
    kbps = Math.max(kbps, HARD_FLOOR_KBPS);
    if (!(kbps < this.rate)) return;
    this.backOffProbes(nowMs);
    this.rate = kbps;
    this.lastCutAt = nowMs;
  }

  /**
   * A decrease holds off the next app-limited probe: a failed probe (one within the longest backoff
   * before it) longer each time; any other the shortest time. (Counting every decrease doubled the
   * wait through the cuts of one narrowing: the bench's start into a capped link probed again only
   * ~10 s after its last cut.)
   */
  private backOffProbes(nowMs: number): void {
    const failedProbe = this.lastProbeAt !== null && nowMs - this.lastProbeAt <= PROBE_BACKOFF_MAX_MS;
    if (!failedProbe) {
      this.probeBlockedUntil = Math.max(this.probeBlockedUntil ?? 0, nowMs + PROBE_BACKOFF_MIN_MS);
      return;
    }
    if (this.lastBackoffAt !== null && nowMs - this.lastBackoffAt > PROBE_BACKOFF_RESET_MS) this.probeBackoffMs = PROBE_BACKOFF_MIN_MS;
    this.probeBlockedUntil = nowMs + this.probeBackoffMs;
    this.probeBackoffMs = Math.min(PROBE_BACKOFF_MAX_MS, 2 * this.probeBackoffMs);
    this.lastBackoffAt = nowMs;
    this.lastProbeAt = null;
  }

  get stats(): RateStats {
    return { ...this.decision(), estimateKbps: this.remb, lossFraction: this.loss, rttMs: this.rtt, rung: this.rung, ignored: this.ignored, sentKbps: this.sent, appLimited: this.appLimited };
  }

  /**
   * A REMB above what we send that has not seen a persistent loss (rule 1): it did not fall since the
   * loss began (a policer builds no queue for its delay-based estimate), or it fell longer ago than a
   * collapse's drain lasts (BLIND_REMB_MS). One sample is never enough: a lying report lifts no floor.
   */
  private rembBlind(rembKbps: number, sendingKbps: number, nowMs: number): boolean {
    if (rembKbps <= sendingKbps || this.lossyRun < PERSISTENT_SAMPLES || this.lossySince === null) return false;
    const fell = this.lastRembDropAt;
    // A sample covers the second before it: a fall in that second saw this loss.
    return fell === null || fell < this.lossySince - LOSS_SAMPLE_SPAN_MS || nowMs - fell >= BLIND_REMB_MS;
  }

  /** The lowest rate rung `i` is encoded at (rule 5). */
  private rungFloor(i: number): number {
    const { floorKbps, ladder } = this.limits;
    return floorKbps * ladder[i].fps * ladder[i].scale ** 2;
  }

  /** Every `onSent` report since `since` (a run that `onSent` tracks) for APP_LIMITED_MS, the last one recent. */
  private sentSoFor(since: number | null, nowMs: number): boolean {
    return since !== null && nowMs - since >= APP_LIMITED_MS && this.sentRecently(nowMs);
  }

  /** An `onSent` report within the feedback timeout. */
  private sentRecently(nowMs: number): boolean {
    return this.sent !== null && this.lastSentAt !== null && nowMs - this.lastSentAt <= FEEDBACK_TIMEOUT_MS;
  }

  private heard(nowMs: number): void {
    if (finite(nowMs)) this.lastFeedbackAt = this.lastFeedbackAt === null ? nowMs : Math.max(this.lastFeedbackAt, nowMs);
  }

  private decision(): RateDecision {
    const { fps, scale } = this.limits.ladder[this.rung];
    return { targetKbps: Math.round(this.rate), fps: Math.max(1, Math.round(this.limits.fps * fps)), scale };
  }
}

/** Combines several peers' decisions for one shared encoder: the most constrained wins. */
export function combineDecisions(decisions: RateDecision[], limits: RateLimits): RateDecision {
  const l = normalise(limits);
  const valid = decisions.filter((d) => finite(d.targetKbps) && finite(d.fps) && finite(d.scale));
  if (valid.length === 0) return { targetKbps: Math.round(l.startKbps), fps: Math.round(l.fps), scale: 1 };
  return {
    targetKbps: clamp(Math.min(...valid.map((d) => d.targetKbps)), Math.min(HARD_FLOOR_KBPS, l.maxKbps), l.maxKbps),
    fps: clamp(Math.min(...valid.map((d) => d.fps)), 1, Math.round(l.fps)),
    scale: clamp(Math.min(...valid.map((d) => d.scale)), MIN_SCALE, 1),
  };
}

/** True when `next` is worth reconfiguring the encoder for (another fps or size, or > 5 % off). */
export function significantChange(prev: RateDecision, next: RateDecision): boolean {
  return prev.fps !== next.fps || prev.scale !== next.scale || Math.abs(next.targetKbps - prev.targetKbps) > SIGNIFICANT_CHANGE * prev.targetKbps;
}


/** The rate limits of a media process's configuration (its `video` block and frame rate). */
export function rateLimits(config: { fps: number; video: { minKbps: number; maxKbps: number; startKbps: number; degradation?: Degradation } }): RateLimits {
  const v = config.video;
  return { minKbps: v.minKbps, maxKbps: v.maxKbps, startKbps: v.startKbps, fps: config.fps, ...(v.degradation ? { degradation: v.degradation } : {}) };
}
