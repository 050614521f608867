/**
 * Time to first frame and capture-to-display latency, measured in real headless Chromium with the
 * SDK-compatible test client (test/client/) against the real stack in this process.
 *
 * TTFF: `POST /1.0/sessions` (client account) → the first frame the page presents (its first
 * requestVideoFrameCallback, at the frame's presentationTime). Each session is ended before the
 * next starts, and its processes are gone before the next one is created.
 *
 * Where the time goes: the client's own step timestamps (socket open, offer, answer, ICE, DTLS,
 * first frame), the instance's lifecycle on the bus (`ams.instance.status`), and the node
 * runtime's start / encoder restarts (its methods wrapped here, in the benchmark only).
 */
import { Patterns } from '@streamstack/contracts';
import { LocalBus, LocalEndpoint } from '@streamstack/transport';
import { NodeRuntime } from '../src/node/runtime/node-runtime.service';
import type { RunningApp } from '../test/support/app';
import { ClientServer, connect, openPage, snapshot, stats, waitFirstFrame } from '../test/support/browser';
import type { Browser } from 'playwright-core';
import { quantile, sleep } from './lib';

declare const window: any; // evaluated in the page

type Call = ReturnType<typeof import('../test/support/http').client>;

/** Timestamps (epoch ms) the stack's side of one session reached. */
interface ServerMarks {
  [name: string]: number;
}

export interface TtffSample {
  session: string;
  instance: string;
  /** ms after the POST was sent, per milestone. */
  at: Record<string, number>;
  ttff: number;
}

export interface TtffResults {
  samples: TtffSample[];
  failures: string[];
}

export interface LatencyResults {
  samples: number;
  invalid: number;
  latency: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
  receive: { p50: number | null; p95: number | null; p99: number | null };
  presentedAfterReceive: { p50: number | null; p95: number | null };
  readMs: { p50: number | null };
  clockSkew: { p50: number | null };
  stats: any;
  seconds: number;
}

/** Records what the stack does for each instance (bench-side instrumentation, no src changes). */
export class ServerProbe {
  readonly byInstance = new Map<string, ServerMarks>();
  private endpoint: LocalEndpoint | null = null;

  constructor(private readonly stack: RunningApp) {}

  private mark(instance: string, name: string, at = Date.now()) {
    if (!instance) return;
    const m = this.byInstance.get(instance) ?? {};
    if (m[name] === undefined) m[name] = at;
    this.byInstance.set(instance, m);
  }

  install(): void {
    // The instance lifecycle as AMS announces it to every role.
    const bus = this.stack.app.get(LocalBus);
    this.endpoint = {
      routes: () => [{ pattern: Patterns.amsInstanceStatus, isEvent: true }],
      deliverRequest: () => undefined,
      deliverEvent: async (_p, _s, data) => {
        const ev = data as { id: string; status: string; timestamp?: string };
        this.mark(ev.id, `ams:${ev.status}`);
      },
    };
    bus.attach(this.endpoint);

    // The node runtime: process start, and each encoder (re)start until its first frame.
    const rt = this.stack.app.get(NodeRuntime) as any;
    for (const name of ['start', 'restartEncoder', 'stop']) {
      if (typeof rt[name] !== 'function') continue;
      const original = rt[name].bind(rt);
      rt[name] = async (...args: any[]) => {
        const id = typeof args[0] === 'string' ? args[0] : args[0]?.instance_id;
        const n = (this.byInstance.get(id)?.[`runtime:${name}:calls`] ?? 0) + 1;
        this.byInstance.set(id, { ...(this.byInstance.get(id) ?? {}), [`runtime:${name}:calls`]: n });
        this.mark(id, `runtime:${name}:call#${n}`);
        try {
          return await original(...args);
        } finally {
          this.mark(id, `runtime:${name}:done#${n}`);
        }
      };
    }
  }

  uninstall(): void {
    if (this.endpoint) this.stack.app.get(LocalBus).detach(this.endpoint);
  }
}

const CLIENT_STEPS = ['wsOpen', 'discoverSent', 'discoverResp', 'offerReceived', 'answerSent', 'firstRemoteCandidate', 'iceChecking', 'iceConnected', 'dtlsConnected', 'controlOpen', 'videoTrack', 'loadedMetadata', 'firstFrame'];

export async function benchTtff(
  stack: RunningApp,
  browser: Browser,
  server: ClientServer,
  call: Call,
  probe: ServerProbe,
  opts: { sessions: number; screen: { width: number; height: number; fps: number } },
  log: (s: string) => void,
): Promise<TtffResults> {
  const samples: TtffSample[] = [];
  const failures: string[] = [];
  const runtime = stack.app.get(NodeRuntime);
  for (let i = 0; i < opts.sessions; i++) {
    const p = await openPage(browser, server);
    let sessionId: string | null = null;
    try {
      const t0 = Date.now();
      const res = await call('POST', '/1.0/sessions', { body: { app: 'pattern', screen: opts.screen } });
      const t1 = Date.now();
      if (res.status !== 201) throw new Error(`POST /1.0/sessions answered ${res.status}: ${JSON.stringify(res.body)}`);
      const session = res.body.metadata;
      sessionId = session.id;
      await connect(p.page, session);
      await waitFirstFrame(p.page, 20_000);
      const snap = await snapshot(p.page);
      const at: Record<string, number> = { postAnswered: t1 - t0 };
      for (const step of CLIENT_STEPS) if (snap.wall[step] !== undefined) at[step] = snap.wall[step] - t0;
      const instance = session.instance_id ?? (await call('GET', `/1.0/sessions/${session.id}`)).body.metadata.instance_id;
      for (const [name, when] of Object.entries(probe.byInstance.get(instance) ?? {})) {
        if (name.includes(':call') || name.includes(':done') || name.startsWith('ams:')) at[name] = when - t0;
      }
      const sample = { session: session.id, instance, at, ttff: snap.wall.firstFrame - t0 };
      samples.push(sample);
      log(`ttff #${i + 1}: ${sample.ttff.toFixed(0)} ms (${Object.entries(at).sort((a, b) => a[1] - b[1]).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')})`);
      if (snap.errors.length) failures.push(`session ${i + 1}: client errors ${snap.errors.join('; ')}`);
    } catch (e) {
      failures.push(`session ${i + 1}: ${(e as Error).message.split('\n').slice(0, 3).join(' | ')}`);
      log(`ttff #${i + 1} FAILED: ${(e as Error).message}`);
      if (failures.length >= 3 && samples.length === 0) break; // it does not stream at all
    } finally {
      await p.close();
      if (sessionId) {
        const instance = (await call('GET', `/1.0/sessions/${sessionId}`)).body.metadata?.instance_id;
        await call('DELETE', `/1.0/sessions/${sessionId}?force=true`);
        // The next session starts on an idle machine.
        const deadline = Date.now() + 10_000;
        while (instance && runtime.list().some((x) => x.instance_id === instance) && Date.now() < deadline) await sleep(50);
      }
      await sleep(300);
    }
  }
  return { samples, failures };
}

export async function benchLatency(
  browser: Browser,
  server: ClientServer,
  call: Call,
  opts: { frames: number; warmupMs: number; screen: { width: number; height: number; fps: number } },
  log: (s: string) => void,
): Promise<LatencyResults> {
  const p = await openPage(browser, server);
  const res = await call('POST', '/1.0/sessions', { body: { app: 'pattern', screen: opts.screen } });
  if (res.status !== 201) throw new Error(`POST /1.0/sessions answered ${res.status}: ${JSON.stringify(res.body)}`);
  const session = res.body.metadata;
  try {
    await connect(p.page, session);
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
    const delta = (k: string) => (after.video?.[k] ?? 0) - (before.video?.[k] ?? 0);
    const frames = delta('framesDecoded');
    const result: LatencyResults = {
      samples: raw.length,
      invalid,
      latency: { p50: quantile(lat, 0.5), p95: quantile(lat, 0.95), p99: quantile(lat, 0.99), max: quantile(lat, 1) },
      receive: { p50: quantile(rec, 0.5), p95: quantile(rec, 0.95), p99: quantile(rec, 0.99) },
      presentedAfterReceive: { p50: quantile(pr, 0.5), p95: quantile(pr, 0.95) },
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
        jitterBufferMs: delta('jitterBufferEmittedCount') ? (1000 * delta('jitterBufferDelay')) / delta('jitterBufferEmittedCount') : null,
        decodeMs: frames ? (1000 * delta('totalDecodeTime')) / frames : null,
        decoder: after.video?.decoderImplementation,
        frame: `${after.video?.frameWidth}x${after.video?.frameHeight}`,
        audioPackets: (after.audio?.packetsReceived ?? 0) - (before.audio?.packetsReceived ?? 0),
        pair: after.pair,
      },
    };
    log(`latency: ${raw.length} frames, p50 ${result.latency.p50?.toFixed(1)} ms p95 ${result.latency.p95?.toFixed(1)} ms`);
    return result;
  } finally {
    await p.close();
    await call('DELETE', `/1.0/sessions/${session.id}?force=true`);
  }
}
