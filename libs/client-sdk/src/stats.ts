/** What the SDK reports on its stats interval: the last interval's rates, and running totals. */
export interface StreamStats {
  /** When these were taken (ms since the epoch). */
  timestamp: number;
  /** Frames decoded a second over the interval. */
  fps: number;
  /** Video and audio received, kbit/s over the interval. */
  bitrateKbps: number;
  /** Video packets lost over the interval, as a percentage of those expected. */
  packetLossPercent: number;
  /** Video packets lost since the start. */
  packetsLost: number;
  /** Round-trip time of the selected candidate pair, ms (null before the first measurement). */
  rttMs: number | null;
  /** Mean time a video frame waited in the jitter buffer over the interval, ms. */
  jitterBufferDelayMs: number | null;
  /** Mean decode time of a video frame over the interval, ms. */
  decodeTimeMs: number | null;
  /** Freezes (a frame shown much later than expected) since the start, and their total duration. */
  freezeCount: number;
  freezeDurationMs: number;
  framesDecoded: number;
  framesDropped: number;
  width: number;
  height: number;
  /** `host`, `srflx`, `prflx` or `relay`: the kind of path the media takes. */
  candidateType: string | null;
}

/** The counters of one getStats() report that StreamStats is made from. */
export interface StatsSample {
  at: number;
  framesDecoded: number;
  framesDropped: number;
  bytesReceived: number;
  packetsReceived: number;
  packetsLost: number;
  jitterBufferDelay: number;
  jitterBufferEmittedCount: number;
  totalDecodeTime: number;
  freezeCount: number;
  totalFreezesDuration: number;
  width: number;
  height: number;
  rtt: number | null;
  candidateType: string | null;
}

type Report = Record<string, unknown>;
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Reads the counters out of an RTCStatsReport's entries. */
export function sampleOf(reports: Iterable<Report>, at: number): StatsSample {
  const s: StatsSample = {
    at,
    framesDecoded: 0,
    framesDropped: 0,
    bytesReceived: 0,
    packetsReceived: 0,
    packetsLost: 0,
    jitterBufferDelay: 0,
    jitterBufferEmittedCount: 0,
    totalDecodeTime: 0,
    freezeCount: 0,
    totalFreezesDuration: 0,
    width: 0,
    height: 0,
    rtt: null,
    candidateType: null,
  };
  const all = [...reports];
  const byId = new Map(all.map((r) => [r.id, r]));
  for (const r of all) {
    if (r.type === 'inbound-rtp') {
      s.bytesReceived += num(r.bytesReceived);
      if (r.kind !== 'video') continue;
      s.framesDecoded = num(r.framesDecoded);
      s.framesDropped = num(r.framesDropped);
      s.packetsReceived = num(r.packetsReceived);
      s.packetsLost = num(r.packetsLost);
      s.jitterBufferDelay = num(r.jitterBufferDelay);
      s.jitterBufferEmittedCount = num(r.jitterBufferEmittedCount);
      s.totalDecodeTime = num(r.totalDecodeTime);
      s.freezeCount = num(r.freezeCount);
      s.totalFreezesDuration = num(r.totalFreezesDuration);
      s.width = num(r.frameWidth);
      s.height = num(r.frameHeight);
    } else if (r.type === 'transport' && typeof r.selectedCandidatePairId === 'string') {
      const pair = byId.get(r.selectedCandidatePairId);
      if (pair && typeof pair.currentRoundTripTime === 'number') s.rtt = pair.currentRoundTripTime;
      const local = pair && byId.get(pair.localCandidateId);
      if (local && typeof local.candidateType === 'string') s.candidateType = local.candidateType;
    }
  }
  return s;
}

/** The rates between two samples (`prev` null: the first interval, rates from zero). */
export function summarise(prev: StatsSample | null, now: StatsSample): StreamStats {
  const p = prev ?? { ...now, at: now.at, framesDecoded: 0, bytesReceived: 0, packetsReceived: 0, packetsLost: 0, jitterBufferDelay: 0, jitterBufferEmittedCount: 0, totalDecodeTime: 0 };
  const seconds = Math.max(0.001, (now.at - p.at) / 1000);
  const frames = now.framesDecoded - p.framesDecoded;
  const lost = Math.max(0, now.packetsLost - p.packetsLost);
  const received = Math.max(0, now.packetsReceived - p.packetsReceived);
  const emitted = now.jitterBufferEmittedCount - p.jitterBufferEmittedCount;
  const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;
  return {
    timestamp: now.at,
    fps: prev ? round(frames / seconds) : 0,
    bitrateKbps: prev ? round(((now.bytesReceived - p.bytesReceived) * 8) / seconds / 1000, 0) : 0,
    packetLossPercent: lost + received > 0 ? round((100 * lost) / (lost + received), 2) : 0,
    packetsLost: now.packetsLost,
    rttMs: now.rtt === null ? null : round(now.rtt * 1000),
    jitterBufferDelayMs: emitted > 0 ? round(((now.jitterBufferDelay - p.jitterBufferDelay) / emitted) * 1000) : null,
    decodeTimeMs: frames > 0 ? round(((now.totalDecodeTime - p.totalDecodeTime) / frames) * 1000, 2) : null,
    freezeCount: now.freezeCount,
    freezeDurationMs: round(now.totalFreezesDuration * 1000, 0),
    framesDecoded: now.framesDecoded,
    framesDropped: now.framesDropped,
    width: now.width,
    height: now.height,
    candidateType: now.candidateType,
  };
}
