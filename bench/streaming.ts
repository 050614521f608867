/**
 * Time to first frame and capture-to-display latency, measured in real headless Chromium with the
 * SDK-compatible test client (test/client/) against the real stack in this process.
 *
 * TTFF: `POST /1.0/sessions` (client account), made by the page itself, which connects the
 * moment it answers → the first frame the page presents (its first requestVideoFrameCallback,
 * at the frame's presentationTime), all on the page's clock. (Until 2026-12-01 the benchmark
 * made the request and handed the answer to the page through Playwright: 15-80 ms that no
 * user's page spends were counted.) Each session is ended before the
 * next starts, and its processes are gone before the next one is created.
 *
 * Where the time goes: the client's own step timestamps (socket open, offer, answer, ICE, DTLS,
 * first frame), the instance's lifecycle on the bus (`ams.instance.status`), and the node
 * runtime's start / stop (its methods wrapped here, in the benchmark only). The media process
 * forces an IDR when the viewer's video track opens: no encoder restart to time any more.
 */
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { Patterns } from '@streamstack/contracts';
import type { LocalEndpoint } from '@streamstack/transport';
import { ClientPage, ClientServer, connect, ConnectOptions, openPage, requestAndConnect, snapshot, stats, waitFirstFrame } from '../test/support/browser';
import type { Browser, Page } from 'playwright-core';
import { quantile, sleep } from './lib';
import type { Stack } from './stack';

declare const window: any; // evaluated in the page

type Call = ReturnType<typeof import('../test/support/http').client>;

export interface TtffSample {
  session: string;
  instance: string;
  /** ms after the request (POST /1.0/sessions or /join) was sent, per milestone. */
  at: Record<string, number>;
  ttff: number;
}

export interface TtffResults {
  samples: TtffSample[];
  failures: string[];
}

export interface LatencyResults {
  label: string;
  samples: number;
  invalid: number;
  latency: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
  receive: { p50: number | null; p95: number | null; p99: number | null };
  presentedAfterReceive: { p50: number | null; p95: number | null };
  /** p50 latency per 5 s window since the first frame read. */
  series: { from: number; p50: number | null; n: number }[];
  readMs: { p50: number | null };
  clockSkew: { p50: number | null };
  stats: any;
  seconds: number;
}

interface ProbeEvent {
  instance: string;
  /** e.g. `runtime:start:call`, `ams:running` */
  name: string;
  at: number;
}

/** Records what the stack does for each instance (bench-side instrumentation, no src changes). */
export class ServerProbe {
  private readonly events: ProbeEvent[] = [];
  private endpoint: LocalEndpoint | null = null;

  constructor(private readonly stack: Stack) {}

  private record(instance: string | undefined, name: string) {
    if (instance) this.events.push({ instance, name, at: Date.now() });
  }

  install(): void {
    // The instance lifecycle as AMS announces it to every role.
    const bus = this.stack.app.get(this.stack.LocalBus);
    this.endpoint = {
      routes: () => [{ pattern: Patterns.amsInstanceStatus, isEvent: true }],
      deliverRequest: () => undefined,
      deliverEvent: async (_p, _s, data) => {
        const ev = data as { id: string; status: string };
        this.record(ev.id, `ams:${ev.status}`);
      },
    };
    bus.attach(this.endpoint);

    // The node runtime: instance start and stop.
    const rt = this.stack.app.get(this.stack.NodeRuntime) as any;
    // BENCH_KEEP_LOGS=<dir>: keep each instance's process logs (streamer.log, ...)
    // before the runtime deletes its work dir.
    const keep = process.env.BENCH_KEEP_LOGS;
    if (keep && typeof rt.purge === 'function' && typeof rt.dataDir === 'string') {
      const purge = rt.purge.bind(rt);
      rt.purge = async (id: string) => {
        const src = join(rt.dataDir, 'instances', id);
        await cp(src, join(keep, id), { recursive: true, filter: (f: string) => !f.endsWith('.sock') }).catch(() => undefined);
        return purge(id);
      };
    }
    for (const name of ['start', 'stop']) {
      if (typeof rt[name] !== 'function') continue;
      const original = rt[name].bind(rt);
      rt[name] = async (...args: any[]) => {
        const id = typeof args[0] === 'string' ? args[0] : args[0]?.instance_id;
        this.record(id, `runtime:${name}:call`);
        try {
          return await original(...args);
        } finally {
          this.record(id, `runtime:${name}:done`);
        }
      };
    }
  }

  /**
   * The instance's marks since `t0`, in ms after it: `ams:<status>` (first of each), and
   * `runtime:<method>:call#n` / `done#n` numbered from 1 after `t0`.
   */
  marksSince(instance: string, t0: number): Record<string, number> {
    const out: Record<string, number> = {};
    const count: Record<string, number> = {};
    for (const ev of this.events) {
      if (ev.instance !== instance || ev.at < t0) continue;
      let key = ev.name;
      if (ev.name.startsWith('runtime:')) {
        const n = (count[ev.name] = (count[ev.name] ?? 0) + 1);
        key = `${ev.name}#${n}`;
      }
      if (out[key] === undefined) out[key] = ev.at - t0;
    }
    return out;
  }

  uninstall(): void {
    if (this.endpoint) this.stack.app.get(this.stack.LocalBus).detach(this.endpoint);
  }
}

const CLIENT_STEPS = ['start', 'channelsCreated', 'wsOpen', 'discoverSent', 'discoverResp', 'offerReceived', 'answerSent', 'firstRemoteCandidate', 'iceChecking', 'iceConnected', 'dtlsConnected', 'controlOpen', 'videoTrack', 'loadedMetadata', 'firstFrame'];

/**
 * A page that asked the gateway itself at `t0` (its wall clock) and connected at the answer:
 * awaits its first frame and gathers every mark since t0.
 */
async function measureFirstFrame(page: Page, probe: ServerProbe, instance: string, t0: number, requestAnswered: number): Promise<TtffSample & { errors: string[] }> {
  await waitFirstFrame(page, 20_000);
  const snap = await snapshot(page);
  const at: Record<string, number> = { requestAnswered: requestAnswered - t0 };
  for (const step of CLIENT_STEPS) if (snap.wall[step] !== undefined) at[step] = snap.wall[step] - t0;
  Object.assign(at, probe.marksSince(instance, t0));
  return { session: '', instance, at, ttff: snap.wall.firstFrame - t0, errors: snap.errors };
}

/** One line on why a page got no frame: its ICE and connection states and what it received. */
async function whyNoFrame(page: Page, e: Error): Promise<string> {
  const s = await snapshot(page).catch(() => null);
  if (!s) return e.message.split('\n')[0];
  const t0 = s.wall.start ?? 0;
  const states = (list: { state: string; at: number }[]) => list.map((x) => `${x.state} +${(x.at - t0).toFixed(0)}`).join(' → ') || 'none';
  return (
    `${e.message.split('\n')[0].replace(/^page\.evaluate: Error: /, '')}; ICE ${states(s.iceStates)}; connectionState ${states(s.connectionStates)} ` +
    `(ms after connect()); signalling received ${s.received.map((m: { type: string }) => m.type).join(', ') || 'nothing'}` +
    `${s.wsClose ? `, socket closed ${s.wsClose.code}` : ''}; instance candidates ${s.counters.remoteCandidates}${s.errors.length ? `; errors: ${s.errors.join('; ')}` : ''}`
  );
}

const describeMarks = (at: Record<string, number>) =>
  Object.entries(at)
    .sort((a, b) => a[1] - b[1])
    .map(([k, v]) => `${k} ${v.toFixed(0)}`)
    .join(', ');

/** `POST /1.0/sessions` → first frame presented, one fresh session at a time. */
export async function benchTtff(
  stack: Stack,
  browser: Browser,
  server: ClientServer,
  call: Call,
  probe: ServerProbe,
  gateway: { url: string; token: string },
  opts: { sessions: number; screen: { width: number; height: number; fps: number }; label?: string; settleMs?: number; logEvery?: number },
  log: (s: string) => void,
): Promise<TtffResults> {
  const samples: TtffSample[] = [];
  const failures: string[] = [];
  const runtime = stack.app.get(stack.NodeRuntime);
  const label = opts.label ?? 'ttff';
  const every = opts.logEvery ?? 1;
  for (let i = 0; i < opts.sessions; i++) {
    const p = await openPage(browser, server);
    let sessionId: string | null = null;
    let instance: string | null = null;
    try {
      // The page asks, as a user's page does: the request → first frame on the page's clock.
      const res = await requestAndConnect(p.page, gateway, '/1.0/sessions', { app: 'pattern', screen: opts.screen });
      if (res.status !== 201) throw new Error(`POST /1.0/sessions answered ${res.status}: ${JSON.stringify(res.body)}`);
      const session = res.body.metadata;
      sessionId = session.id;
      instance = session.instance_id ?? (await call('GET', `/1.0/sessions/${session.id}`)).body.metadata.instance_id;
      const sample = await measureFirstFrame(p.page, probe, instance!, res.requested, res.answered);
      sample.session = session.id;
      samples.push(sample);
      if ((i + 1) % every === 0) log(`${label} #${i + 1}: ${sample.ttff.toFixed(0)} ms${every === 1 ? ` (${describeMarks(sample.at)})` : ''}; ${failures.length} failures so far`);
      if (sample.errors.length) failures.push(`session ${i + 1}: client errors ${sample.errors.join('; ')}`);
    } catch (e) {
      const why = await whyNoFrame(p.page, e as Error);
      failures.push(`session ${i + 1}${instance ? ` (instance ${instance})` : ''}: ${why}`);
      log(`${label} #${i + 1} FAILED: ${why}`);
      if (failures.length >= 3 && samples.length === 0) break; // it does not stream at all
    } finally {
      await p.close();
      if (sessionId) {
        await call('DELETE', `/1.0/sessions/${sessionId}?force=true`);
        // The next session starts on an idle machine.
        const deadline = Date.now() + 10_000;
        while (instance && runtime.list().some((x: { instance_id: string }) => x.instance_id === instance) && Date.now() < deadline) await sleep(50);
      }
      await sleep(opts.settleMs ?? 300);
    }
  }
  return { samples, failures };
}

/**
 * `POST /1.0/sessions/{id}/join` → first frame presented, on one joinable session whose
 * instance keeps running: the streaming part of TTFF alone (signalling, ICE, DTLS, keyframe).
 * Each join replaces the previous viewer, as a browser reload would.
 */
export async function benchJoin(
  browser: Browser,
  server: ClientServer,
  call: Call,
  probe: ServerProbe,
  gateway: { url: string; token: string },
  opts: { joins: number; screen: { width: number; height: number; fps: number } },
  log: (s: string) => void,
): Promise<TtffResults> {
  const samples: TtffSample[] = [];
  const failures: string[] = [];
  const res = await call('POST', '/1.0/sessions', { body: { app: 'pattern', screen: opts.screen, joinable: true, idle_time_min: 10, ephemeral: false } });
  if (res.status !== 201) throw new Error(`POST /1.0/sessions answered ${res.status}: ${JSON.stringify(res.body)}`);
  const session = res.body.metadata;
  try {
    // The instance is running before the first join is timed.
    const deadline = Date.now() + 20_000;
    while ((await call('GET', `/1.0/sessions/${session.id}`)).body.metadata.status !== 'active' && Date.now() < deadline) await sleep(50);
    const instance = (await call('GET', `/1.0/sessions/${session.id}`)).body.metadata.instance_id;
    let previous: ClientPage | null = null;
    for (let i = 0; i < opts.joins; i++) {
      const p = await openPage(browser, server);
      try {
        await sleep(500); // the previous viewer's stream settles
        const joined = await requestAndConnect(p.page, gateway, `/1.0/sessions/${session.id}/join`, {});
        if (joined.status !== 200) throw new Error(`join answered ${joined.status}: ${JSON.stringify(joined.body)}`);
        const sample = await measureFirstFrame(p.page, probe, instance, joined.requested, joined.answered);
        sample.session = session.id;
        samples.push(sample);
        log(`join #${i + 1}: ${sample.ttff.toFixed(0)} ms (${describeMarks(sample.at)})`);
        if (sample.errors.length) failures.push(`join ${i + 1}: client errors ${sample.errors.join('; ')}`);
      } catch (e) {
        const why = await whyNoFrame(p.page, e as Error);
        failures.push(`join ${i + 1}: ${why}`);
        log(`join #${i + 1} FAILED: ${why}`);
        if (failures.length >= 3 && samples.length === 0) break;
      } finally {
        await previous?.close();
        previous = p;
      }
    }
    await previous?.close();
  } finally {
    await call('DELETE', `/1.0/sessions/${session.id}?force=true`);
  }
  return { samples, failures };
}

/**
 * Capture-to-display latency from the timestamp strip of every presented frame of one session
 * (`frames` of them, after `warmupMs`), with the page's `connect` options.
 */
export async function benchLatency(
  browser: Browser,
  server: ClientServer,
  call: Call,
  opts: { label: string; frames: number; warmupMs: number; screen: { width: number; height: number; fps: number }; connect?: ConnectOptions },
  log: (s: string) => void,
): Promise<LatencyResults> {
  const p = await openPage(browser, server);
  const res = await call('POST', '/1.0/sessions', { body: { app: 'pattern', screen: opts.screen } });
  if (res.status !== 201) throw new Error(`POST /1.0/sessions answered ${res.status}: ${JSON.stringify(res.body)}`);
  const session = res.body.metadata;
  try {
    await connect(p.page, session, opts.connect ?? {});
    await waitFirstFrame(p.page, 20_000);
    await sleep(opts.warmupMs);
    const before = await stats(p.page);
    const t0 = Date.now();
    await p.page.evaluate(() => window.streamstack.client.startStripReader());
    await p.page.waitForFunction((n) => window.streamstack.client.stripSamples.length >= n, opts.frames, {
      timeout: Math.max(30_000, (opts.frames / opts.screen.fps) * 3000),
      polling: 250,
    });
    const seconds = (Date.now() - t0) / 1000;
    const raw: any[] = await p.page.evaluate(() => {
      const c = window.streamstack.client;
      c.stopStripReader();
      return c.stripSamples;
    });
    const invalid: number = await p.page.evaluate(() => window.streamstack.client.stripInvalid);
    const after = await stats(p.page);
    const lat = raw.map((s) => s.latency);
    const rec = raw.map((s) => s.receive).filter((v) => v !== null);
    const pr = raw.filter((s) => s.receive !== null).map((s) => s.latency - s.receive);
    const delta = (k: string, kind = 'video') => (after[kind]?.[k] ?? 0) - (before[kind]?.[k] ?? 0);
    const frames = delta('framesDecoded');
    const series: LatencyResults['series'] = [];
    if (raw.length) {
      const first = raw[0].presented;
      for (let from = 0; ; from += 5) {
        const inWindow = raw.filter((s) => s.presented - first >= from * 1000 && s.presented - first < (from + 5) * 1000).map((s) => s.latency);
        if (!inWindow.length) break;
        series.push({ from: from + opts.warmupMs / 1000, p50: quantile(inWindow, 0.5), n: inWindow.length });
      }
    }
    const perEmitted = (kind: string, k: string) => (delta('jitterBufferEmittedCount', kind) ? (1000 * delta(k, kind)) / delta('jitterBufferEmittedCount', kind) : null);
    const result: LatencyResults = {
      label: opts.label,
      samples: raw.length,
      invalid,
      latency: { p50: quantile(lat, 0.5), p95: quantile(lat, 0.95), p99: quantile(lat, 0.99), max: quantile(lat, 1) },
      receive: { p50: quantile(rec, 0.5), p95: quantile(rec, 0.95), p99: quantile(rec, 0.99) },
      presentedAfterReceive: { p50: quantile(pr, 0.5), p95: quantile(pr, 0.95) },
      series,
      readMs: { p50: quantile(raw.map((s) => s.readMs), 0.5) },
      clockSkew: { p50: quantile(raw.map((s) => s.clockSkew), 0.5) },
      seconds,
      stats: {
        decodedFps: frames / seconds,
        framesDropped: delta('framesDropped'),
        nackCount: delta('nackCount'),
        pliCount: delta('pliCount'),
        freezeCount: delta('freezeCount'),
        packetsLost: delta('packetsLost'),
        jitterBufferMs: perEmitted('video', 'jitterBufferDelay'),
        jitterBufferTargetMs: perEmitted('video', 'jitterBufferTargetDelay'),
        audioJitterBufferMs: perEmitted('audio', 'jitterBufferDelay'),
        decodeMs: frames ? (1000 * delta('totalDecodeTime')) / frames : null,
        /** First packet received → frame decoded (getStats totalProcessingDelay), mean per frame. */
        processingMs: frames ? (1000 * delta('totalProcessingDelay')) / frames : null,
        frame: `${after.video?.frameWidth}x${after.video?.frameHeight}`,
        audioPackets: delta('packetsReceived', 'audio'),
        pair: after.pair,
      },
    };
    log(
      `latency [${opts.label}]: ${raw.length} frames, p50 ${result.latency.p50?.toFixed(1)} ms p95 ${result.latency.p95?.toFixed(1)} ms; ` +
        `per 5 s: ${series.map((x) => x.p50?.toFixed(0)).join(' ')}; video jitter buffer ${result.stats.jitterBufferMs?.toFixed(1)} ms (target ${result.stats.jitterBufferTargetMs?.toFixed(1)}), ` +
        `processing ${result.stats.processingMs?.toFixed(1)} ms, decode ${result.stats.decodeMs?.toFixed(1)} ms, audio jitter buffer ${result.stats.audioJitterBufferMs?.toFixed(1)} ms; ` +
        `received → presented p50 ${result.presentedAfterReceive.p50?.toFixed(1)} ms, strip → received p50 ${result.receive.p50?.toFixed(1)} ms`,
    );
    return result;
  } finally {
    await p.close();
    await call('DELETE', `/1.0/sessions/${session.id}?force=true`);
  }
}
