/**
 * Signalling relay throughput and latency: the gateway's relay (ticketed socket, validation and
 * order checks, the in-process bus `signal.{session}.to-instance` / `.to-client`) against a bare
 * `ws` relay (two sockets, frames forwarded unchanged), measured the same way in the same run.
 *
 * Both have a fake instance in this process that answers discover/settings and echoes every
 * `candidate`; the load generator (bench/relay-load.js) runs as its own process.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RelayedSignal, signalPattern } from '@streamstack/contracts';
import type { LocalEndpoint } from '@streamstack/transport';
import { WebSocket } from 'ws';
import { startBareRelay } from '../test/support/ws-relay';
import type { Stack } from './stack';

const run = promisify(execFile);
const OFFER_SDP = Buffer.from('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n').toString('base64');

export interface LoadResult {
  mode: 'latency' | 'throughput';
  count: number;
  window: number;
  seconds: number;
  roundTripsPerSecond: number;
  rtt: { p50: number; p95: number; p99: number; max: number };
}

export interface RelayResults {
  gateway: { latency: LoadResult; throughput: LoadResult };
  bare: { latency: LoadResult; throughput: LoadResult };
}

export interface RelayOptions {
  latencyCount: number;
  throughputCount: number;
  window: number;
}

/** What the instance side answers to the client's prelude, and its echo of each candidate. */
function instanceReply(message: { type: string; [k: string]: unknown }): object | null {
  if (message.type === 'discover') return { type: 'resp:discover', max_api_version: 2, fps: 30, capabilities: [] };
  if (message.type === 'settings') return { type: 'offer', sdp: OFFER_SDP };
  if (message.type === 'candidate') return message;
  return null;
}

async function load(url: string, mode: 'latency' | 'throughput', count: number, window: number): Promise<LoadResult> {
  const { stdout } = await run(process.execPath, [join(__dirname, 'relay-load.js'), JSON.stringify({ url, mode, count, window })], { timeout: 180_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as LoadResult;
}

/** A session whose "instance" is a subscriber on the in-process bus: the real relay, no streamer. */
export async function gatewaySession(stack: Stack, tag: string): Promise<{ url: string; stop(): Promise<void> }> {
  const sessions = stack.app.get(stack.SessionsService);
  const bus = stack.app.get(stack.LocalBus);
  const rpc = stack.app.get(stack.RpcClient);
  const instanceId = `bench-relay-${tag}-${Date.now()}`;
  const view = await sessions.createForInstance({
    instance_id: instanceId,
    app: 'bench-relay',
    app_version: 1,
    region: 'local',
    node: 'bench',
    screen: { width: 1280, height: 720, fps: 30, density: 240 },
  } as any);
  const admin = { id: 'bench', name: 'bench', role: 'admin' } as any;
  const joined = await sessions.join(admin, view.id);
  await sessions.onInstanceStatus({ id: instanceId, app: 'bench-relay', node: 'bench', status: 'running', status_message: '', session_id: view.id, timestamp: new Date().toISOString() } as any);

  const endpoint: LocalEndpoint = {
    routes: () => [{ pattern: signalPattern(view.id, 'to-instance'), isEvent: true }],
    deliverRequest: () => undefined,
    deliverEvent: async (_pattern, _subject, data) => {
      const signal = data as RelayedSignal;
      const reply = instanceReply(signal.message);
      if (reply) rpc.emit(signalPattern(view.id, 'to-client'), { session_id: view.id, generation: signal.generation, message: reply });
    },
  };
  bus.attach(endpoint);
  return {
    url: joined.url,
    async stop() {
      bus.detach(endpoint);
      await sessions.terminate(null, view.id, true, 'benchmark done').catch(() => undefined);
    },
  };
}

export async function benchRelay(stack: Stack, opts: RelayOptions, log: (s: string) => void): Promise<RelayResults> {
  // Bare relay: the fake instance is a ws client of the relay, in this process.
  const bare = await startBareRelay({ record: false });
  const instance = new WebSocket(bare.instanceUrl, { perMessageDeflate: false });
  await new Promise((r, j) => instance.once('open', r).once('error', j));
  instance.on('message', (data) => {
    const reply = instanceReply(JSON.parse(data.toString()));
    if (reply) instance.send(JSON.stringify(reply));
  });

  const results: Partial<RelayResults> = {};
  try {
    // Interleaved, warm-up first, so that neither side profits from a warmer JIT.
    for (const mode of ['latency', 'throughput'] as const) {
      const count = mode === 'latency' ? opts.latencyCount : opts.throughputCount;
      const window = mode === 'latency' ? 1 : opts.window;
      for (const which of ['gateway', 'bare'] as const) {
        const url = async () => {
          if (which === 'bare') return { url: bare.clientUrl, stop: async () => undefined };
          return gatewaySession(stack, mode);
        };
        const warm = await url();
        await load(warm.url, mode, Math.min(2000, count), window);
        await warm.stop();
        const target = await url();
        const r = await load(target.url, mode, count, window);
        await target.stop();
        log(`relay ${which} ${mode}: ${r.roundTripsPerSecond.toFixed(0)} round trips/s, rtt p50 ${r.rtt.p50.toFixed(3)} ms p99 ${r.rtt.p99.toFixed(3)} ms`);
        (results[which] ??= {} as any)[mode] = r;
      }
    }
  } finally {
    instance.close();
    await bare.close();
  }
  return results as RelayResults;
}
