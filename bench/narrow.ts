/**
 * A narrow link: relay-only Chromium (`iceTransportPolicy: 'relay'`) through a real coturn whose
 * `max-bps` caps the session at a fraction of the stream's natural rate, and a step of the rate
 * down and back up within one session.
 *
 * The stack here is a second one of this benchmark, booted with TURN (three TURN "servers" that
 * share coturn's secret, so its credentials work on each): an uncapped coturn, a coturn capped
 * with max-bps, and a UDP shaper (udp-shaper.ts) in front of the uncapped one. Each page gets
 * only the TURN URL of its phase. The streamer's ICE binds 127.0.0.1 (coturn relays to loopback
 * peers only).
 *
 * 1. natural: uncapped coturn; received rate (video + audio bytes, getStats) over 5 s after 10 s.
 * 2. narrow: coturn with max-bps = `fraction` x natural; `adaptMs` to adapt, then `measureMs`:
 *    decoded fps, freezes (freezeCount, totalFreezesDuration), the rate it settles at (the media
 *    process's stats), the time until its target first went under the cap and until it stayed.
 * 3. step: the shaper, unshaped for 10 s, then `fraction` x natural for 20 s, then unshaped for
 *    20 s. coturn's max-bps is per server and fixed for an allocation, so a step within one
 *    session cannot be done with coturn alone (a restart loses the allocation, a second server
 *    needs an ICE restart): the shaper is the bottleneck instead, the relay is still coturn.
 */
import type { Browser } from 'playwright-core';
import { ClientPage, ClientServer, connect, openPage, stats, waitFirstFrame } from '../test/support/browser';
import { Coturn, startCoturn } from '../test/support/coturn';
import { client } from '../test/support/http';
import { testPatternManifest } from '../test/support/packages';
import { MediaStatsLog } from './cpu';
import { eventually, mean, sleep } from './lib';
import { ADMIN_TOKEN, Stack, startStack } from './stack';
import { startUdpShaper, UdpShaper } from './udp-shaper';

type Screen = { width: number; height: number; fps: number };

export interface TimelinePoint {
  t: number;
  targetKbps: number | null;
  sentKbps: number | null;
  width: number | null;
  fps: number | null;
  receivedKbps: number;
  decodedFps: number;
  freezes: number;
  freezeMs: number;
  /** The viewer's REMB and smoothed RR loss as the media process's rate controller has them. */
  estimateKbps?: number | null;
  lossPct?: number | null;
  rttMs?: number | null;
  /** Video packets the browser counted lost, NACKs and PLIs it sent, over the second. */
  lostPackets?: number;
  nacks?: number;
  plis?: number;
}

export interface NarrowResults {
  naturalKbps: number;
  naturalVideoKbps: number;
  naturalSentKbps: number | null;
  fraction: number;
  capKbps: number;
  narrow: {
    decodedFps: number;
    freezeCount: number;
    freezeMs: number;
    settledSentKbps: number | null;
    settledTargetKbps: number | null;
    receivedKbps: number;
    frame: string;
    firstUnderCapS: number | null;
    stayedUnderCapS: number | null;
    coturnDrops: string;
    timeline: TimelinePoint[];
  };
  step: { downAtS: number; upAtS: number; timeline: TimelinePoint[]; shaperDrops: number } | null;
}

const videoAudioBytes = (s: any) => (s.video?.bytesReceived ?? 0) + (s.audio?.bytesReceived ?? 0);

async function session(call: ReturnType<typeof client>, browser: Browser, server: ClientServer, turnUrl: string, screen: Screen) {
  const res = await call('POST', '/1.0/sessions', { body: { app: 'pattern', screen } });
  if (res.status !== 201) throw new Error(`POST /1.0/sessions answered ${res.status}: ${JSON.stringify(res.body)}`);
  const s = res.body.metadata;
  const turn = s.stun_servers.find((x: { urls: string[]; password?: string }) => x.password && x.urls.length);
  if (!turn) throw new Error(`no TURN credentials in ${JSON.stringify(s.stun_servers)}`);
  const page = await openPage(browser, server);
  await connect(page.page, { ...s, stun_servers: [{ ...turn, urls: [turnUrl] }] }, { iceTransportPolicy: 'relay' });
  await waitFirstFrame(page.page, 30_000);
  const instance = s.instance_id ?? (await call('GET', `/1.0/sessions/${s.id}`)).body.metadata.instance_id;
  return { id: s.id as string, instance: instance as string, page, firstFrameAt: Date.now() };
}

/** Samples once a second for `ms`: the page's stats and the instance's media stats. */
async function timeline(page: ClientPage, mediaLog: MediaStatsLog, instance: string, t0: number, ms: number, onTick?: (t: number) => void): Promise<TimelinePoint[]> {
  const out: TimelinePoint[] = [];
  let prev = await stats(page.page);
  let prevAt = Date.now();
  const end = Date.now() + ms;
  while (Date.now() < end) {
    await sleep(1000);
    const s = await stats(page.page);
    const now = Date.now();
    const dt = (now - prevAt) / 1000;
    const m = mediaLog.since(instance, now - 1100).at(-1) ?? null;
    const p: TimelinePoint = {
      t: (now - t0) / 1000,
      targetKbps: m?.targetKbps ?? null,
      sentKbps: m?.sentKbps ?? null,
      width: m?.width ?? null,
      fps: m?.fps ?? null,
      receivedKbps: ((videoAudioBytes(s) - videoAudioBytes(prev)) * 8) / dt / 1000,
      decodedFps: ((s.video?.framesDecoded ?? 0) - (prev.video?.framesDecoded ?? 0)) / dt,
      freezes: (s.video?.freezeCount ?? 0) - (prev.video?.freezeCount ?? 0),
      freezeMs: 1000 * ((s.video?.totalFreezesDuration ?? 0) - (prev.video?.totalFreezesDuration ?? 0)),
      estimateKbps: m?.peers?.[0]?.estimateKbps ?? null,
      lossPct: m?.peers?.[0] ? 100 * m.peers[0].lossFraction : null,
      rttMs: m?.peers?.[0]?.rttMs ?? null,
      lostPackets: (s.video?.packetsLost ?? 0) - (prev.video?.packetsLost ?? 0),
      nacks: (s.video?.nackCount ?? 0) - (prev.video?.nackCount ?? 0),
      plis: (s.video?.pliCount ?? 0) - (prev.video?.pliCount ?? 0),
    };
    out.push(p);
    onTick?.(p.t);
    prev = s;
    prevAt = now;
  }
  return out;
}

export async function benchNarrow(
  from: 'dist' | 'src',
  browser: Browser,
  server: ClientServer,
  opts: { fraction: number; adaptMs: number; measureMs: number; step: boolean; screen: Screen },
  log: (s: string) => void,
): Promise<NarrowResults> {
  const open: Coturn[] = [];
  let shaper: UdpShaper | null = null;
  let stack: Stack | null = null;
  const ended: Array<() => Promise<unknown>> = [];
  try {
    const wide = await startCoturn({ relaySlot: 1 });
    open.push(wide);
    shaper = await startUdpShaper(Number(/:(\d+)\?/.exec(wide.url)![1]));
    const shaperUrl = `turn:127.0.0.1:${shaper.port}?transport=udp`;
    stack = await startStack(from, {
      STREAMSTACK_TURN_URLS: wide.url,
      STREAMSTACK_TURN_SECRET: wide.secret,
      STREAMSTACK_ICE_BIND_ADDRESS: '127.0.0.1',
    });
    const admin = client(stack.url, ADMIN_TOKEN);
    await eventually(async () => (await admin('GET', '/1.0/status')).status === 200);
    await admin('POST', '/ams/1.0/applications', { body: testPatternManifest('pattern', { display: opts.screen }) });
    const token = (await admin('POST', '/1.0/accounts', { body: { name: 'bench', role: 'client' } })).body.metadata.token;
    const call = client(stack.url, token);
    const mediaLog = new MediaStatsLog(stack);
    const end = (s: { id: string; page: ClientPage }) => async () => {
      await s.page.close();
      await call('DELETE', `/1.0/sessions/${s.id}?force=true`);
    };

    // 1. The natural rate, through the uncapped coturn.
    const a = await session(call, browser, server, wide.url, opts.screen);
    ended.push(end(a));
    await sleep(10_000);
    const s0 = await stats(a.page.page);
    const t0 = Date.now();
    await sleep(5000);
    const s1 = await stats(a.page.page);
    const dt = (Date.now() - t0) / 1000;
    const naturalKbps = ((videoAudioBytes(s1) - videoAudioBytes(s0)) * 8) / dt / 1000;
    const naturalVideoKbps = (((s1.video?.bytesReceived ?? 0) - (s0.video?.bytesReceived ?? 0)) * 8) / dt / 1000;
    const naturalSentKbps = mean(mediaLog.since(a.instance, t0).map((x) => x.sentKbps));
    log(`narrow: natural rate ${naturalKbps.toFixed(0)} kb/s received (video ${naturalVideoKbps.toFixed(0)}), media process sent ${naturalSentKbps?.toFixed(0)} kb/s (relay ${s1.pair?.local?.candidateType})`);
    await ended.pop()!();

    // 2. A coturn capped at `fraction` of it.
    const capKbps = naturalKbps * opts.fraction;
    const narrowTurn = await startCoturn({ relaySlot: 2, maxBytesPerSecond: (capKbps * 1000) / 8 });
    open.push(narrowTurn);
    const b = await session(call, browser, server, narrowTurn.url, opts.screen);
    ended.push(end(b));
    const tl = await timeline(b.page, mediaLog, b.instance, b.firstFrameAt, opts.adaptMs + opts.measureMs);
    const measured = tl.filter((p) => p.t > opts.adaptMs / 1000);
    const sum = (k: keyof TimelinePoint) => measured.reduce((x, p) => x + Number(p[k] ?? 0), 0);
    const seconds = measured.length;
    const last = await stats(b.page.page);
    const under = (p: TimelinePoint) => p.targetKbps !== null && p.targetKbps <= capKbps;
    const firstUnder = tl.find(under);
    const lastOver = [...tl].reverse().find((p) => !under(p));
    const narrow: NarrowResults['narrow'] = {
      decodedFps: sum('decodedFps') / Math.max(1, seconds),
      freezeCount: sum('freezes'),
      freezeMs: sum('freezeMs'),
      settledSentKbps: mean(measured.map((p) => p.sentKbps ?? NaN).filter(Number.isFinite)),
      settledTargetKbps: mean(measured.map((p) => p.targetKbps ?? NaN).filter(Number.isFinite)),
      receivedKbps: sum('receivedKbps') / Math.max(1, seconds),
      frame: `${last.video?.frameWidth}x${last.video?.frameHeight}`,
      firstUnderCapS: firstUnder?.t ?? null,
      stayedUnderCapS: lastOver ? (tl[tl.indexOf(lastOver) + 1]?.t ?? null) : (tl[0]?.t ?? null),
      coturnDrops: `${(narrowTurn.log().match(/(drop|exceed|bandwidth)/gi) ?? []).length} coturn log lines about drops`,
      timeline: tl,
    };
    log(
      `narrow (cap ${capKbps.toFixed(0)} kb/s): ${narrow.decodedFps.toFixed(1)} fps decoded, ${narrow.freezeCount} freezes ${narrow.freezeMs.toFixed(0)} ms over ${seconds} s; ` +
        `settled at ${narrow.settledSentKbps?.toFixed(0)} kb/s sent (target ${narrow.settledTargetKbps?.toFixed(0)}), ${narrow.frame}; under the cap from ${narrow.firstUnderCapS} s, for good from ${narrow.stayedUnderCapS} s`,
    );
    await ended.pop()!();

    // 3. A step down and back up, through the shaper in front of the uncapped coturn.
    let step: NarrowResults['step'] = null;
    if (opts.step) {
      shaper.setRate(Infinity);
      const c = await session(call, browser, server, shaperUrl, opts.screen);
      ended.push(end(c));
      const downAtS = 10;
      const upAtS = 30;
      // 40 s back up: a stream bound under the REMB's reach climbs only after 20 s without loss
      // (rate control's rule 6), and the last loss may be a probe late in the narrow phase.
      const backUpS = 40;
      let phase = 0;
      const steps = await timeline(c.page, mediaLog, c.instance, c.firstFrameAt, (upAtS + backUpS) * 1000, (t) => {
        if (phase === 0 && t >= downAtS - 0.5) {
          phase = 1;
          shaper!.setRate((capKbps * 1000) / 8);
          log(`narrow step: down to ${capKbps.toFixed(0)} kb/s`);
        } else if (phase === 1 && t >= upAtS - 0.5) {
          phase = 2;
          shaper!.setRate(Infinity);
          log('narrow step: back up (unshaped)');
        }
      });
      step = { downAtS, upAtS, timeline: steps, shaperDrops: shaper.dropped() };
      log(`narrow step: ${steps.map((p) => `${p.t.toFixed(0)}s ${p.targetKbps ?? '-'}/${p.sentKbps ?? '-'}kb/s ${p.width ?? '-'}w ${p.decodedFps.toFixed(0)}fps`).join('; ')}`);
      await ended.pop()!();
    }
    return { naturalKbps, naturalVideoKbps, naturalSentKbps, fraction: opts.fraction, capKbps, narrow, step };
  } finally {
    for (const e of ended) await e().catch(() => undefined);
    await stack?.close();
    await shaper?.close();
    for (const c of open) await c.stop();
  }
}
