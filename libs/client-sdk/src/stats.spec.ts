import { sampleOf, summarise } from './stats';

/** A getStats() report as Chromium gives it: inbound video and audio, the transport, its pair. */
function report(over: { frames: number; videoBytes: number; audioBytes: number; lost: number; received: number; jbDelay: number; jbCount: number; decode: number }) {
  return [
    { id: 'v', type: 'inbound-rtp', kind: 'video', framesDecoded: over.frames, framesDropped: 1, bytesReceived: over.videoBytes, packetsLost: over.lost, packetsReceived: over.received, jitterBufferDelay: over.jbDelay, jitterBufferEmittedCount: over.jbCount, totalDecodeTime: over.decode, freezeCount: 2, totalFreezesDuration: 0.5, frameWidth: 1280, frameHeight: 720 },
    { id: 'a', type: 'inbound-rtp', kind: 'audio', bytesReceived: over.audioBytes },
    { id: 't', type: 'transport', selectedCandidatePairId: 'p' },
    { id: 'p', type: 'candidate-pair', currentRoundTripTime: 0.0123, localCandidateId: 'l' },
    { id: 'l', type: 'local-candidate', candidateType: 'relay' },
  ];
}

describe('stream stats', () => {
  it('turns two reports a second apart into rates over that second', () => {
    const a = sampleOf(report({ frames: 100, videoBytes: 1_000_000, audioBytes: 50_000, lost: 10, received: 990, jbDelay: 5, jbCount: 100, decode: 0.2 }), 10_000);
    const b = sampleOf(report({ frames: 130, videoBytes: 1_250_000, audioBytes: 56_000, lost: 13, received: 1287, jbDelay: 5.6, jbCount: 130, decode: 0.23 }), 11_000);
    expect(summarise(a, b)).toEqual({
      timestamp: 11_000,
      fps: 30,
      bitrateKbps: 2048, // (250,000 + 6,000) bytes * 8 / 1 s
      packetLossPercent: 1, // 3 of 300
      packetsLost: 13,
      rttMs: 12.3,
      jitterBufferDelayMs: 20, // 0.6 s over 30 frames
      decodeTimeMs: 1, // 30 ms over 30 frames
      freezeCount: 2,
      freezeDurationMs: 500,
      framesDecoded: 130,
      framesDropped: 1,
      width: 1280,
      height: 720,
      candidateType: 'relay',
    });
  });

  it('reports no rates for the first sample and no means without frames', () => {
    const s = sampleOf(report({ frames: 0, videoBytes: 0, audioBytes: 0, lost: 0, received: 0, jbDelay: 0, jbCount: 0, decode: 0 }), 1000);
    expect(summarise(null, s)).toMatchObject({ fps: 0, bitrateKbps: 0, packetLossPercent: 0, jitterBufferDelayMs: null, decodeTimeMs: null });
  });

  it('reads an empty or odd report as zeros, not NaN', () => {
    const s = sampleOf([{ id: 'x', type: 'inbound-rtp', kind: 'video', framesDecoded: 'many', bytesReceived: null }], 0);
    expect(summarise(null, s)).toMatchObject({ fps: 0, framesDecoded: 0, rttMs: null, candidateType: null });
  });
});
