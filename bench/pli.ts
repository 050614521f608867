/**
 * PLI → IDR on the wire: a node-datachannel receiver (test/support/streamer-client.ts) of a real
 * media process reading a real 1280x720@30 test pattern (test/support/media-process.ts) sends a
 * PLI and times the first RTP packet of an IDR (SPS or IDR slice) that arrives after it, and
 * the last packet of that access unit (marker bit). Samples are spaced more than the engine's
 * keyframe interval (250 ms) apart, so none is deferred.
 *
 * Baseline in the same run, interleaved: the same wait without a PLI, for the first packet of
 * the next frame of any kind. That is what "the IDR goes out on the very next frame" costs
 * (on average half a frame interval plus the encode); PLI → IDR minus it is what the keyframe
 * itself adds.
 */
import { isH264KeyframeStart } from '../src/node/media/rtp';
import { startTestStream } from '../test/support/media-process';
import { closeAllTestClients, payloadOf, TestClientPeer } from '../test/support/streamer-client';
import { quantile, sleep } from './lib';

export interface PliResults {
  samples: number;
  /** PLI sent → first packet of the IDR (ms). */
  firstPacket: number[];
  /** PLI sent → last packet (marker) of the IDR's access unit (ms). */
  complete: number[];
  /** No PLI: now → first packet of the next frame (ms). */
  nextFrame: number[];
  idrBytes: number[];
  missed: number;
  encoder: string;
}


export async function benchPli(opts: { samples: number; spacingMs: number; screen: { width: number; height: number; fps: number } }, log: (s: string) => void): Promise<PliResults> {
  const stream = await startTestStream({
    ...opts.screen,
    // 720p30's default range (libs/contracts defaultBitrateRange); no feedback, so it stays at the start.
    video: { encoder: 'libx264', gop: 600, minKbps: 1000, maxKbps: 3000, startKbps: 1000 },
  });
  const r: PliResults = { samples: 0, firstPacket: [], complete: [], nextFrame: [], idrBytes: [], missed: 0, encoder: stream.streamer.encoderName ?? 'n/a' };
  const client = new TestClientPeer(stream.streamer, 1);
  try {
    await client.connect();
    await client.waitFor(() => client.received.video.length > 60, 10_000, 'video');
    await sleep(1000);
    const video = client.received.video;
    for (let i = 0; i < opts.samples; i++) {
      // Baseline: the next frame of any kind.
      await sleep(opts.spacingMs / 2 + Math.random() * 40);
      let from = video.length;
      const tb = performance.now();
      const lastTs = video[from - 1]?.header.timestamp;
      await client.waitFor(() => video.slice(from).some((p) => p.header.timestamp !== lastTs), 2000, 'the next frame').catch(() => undefined);
      const next = video.slice(from).find((p) => p.header.timestamp !== lastTs);
      if (next) r.nextFrame.push(next.at - tb);

      await sleep(opts.spacingMs / 2 + Math.random() * 40);
      from = video.length;
      const t0 = performance.now();
      if (!client.sendPli()) throw new Error('the PLI could not be sent');
      try {
        await client.waitFor(() => video.slice(from).some((p) => p.at >= t0 && isH264KeyframeStart(payloadOf(p))), 2000, 'the IDR');
      } catch {
        r.missed++;
        log(`pli #${i + 1}: no IDR within 2 s`);
        continue;
      }
      const start = video.slice(from).find((p) => p.at >= t0 && isH264KeyframeStart(payloadOf(p)))!;
      await client.waitFor(() => video.slice(from).some((p) => p.header.timestamp === start.header.timestamp && p.header.marker), 2000, 'the IDR complete').catch(() => undefined);
      const unit = video.slice(from).filter((p) => p.header.timestamp === start.header.timestamp);
      const end = unit.find((p) => p.header.marker);
      r.firstPacket.push(start.at - t0);
      if (end) r.complete.push(end.at - t0);
      r.idrBytes.push(unit.reduce((a, p) => a + p.header.payloadEnd - p.header.payloadOffset, 0));
      r.samples++;
      if ((i + 1) % 10 === 0) log(`pli ${i + 1}/${opts.samples}: p50 first packet ${quantile(r.firstPacket, 0.5)?.toFixed(1)} ms, next frame (no PLI) ${quantile(r.nextFrame, 0.5)?.toFixed(1)} ms`);
    }
  } finally {
    client.close();
    closeAllTestClients();
    await stream.stop();
  }
  return r;
}
