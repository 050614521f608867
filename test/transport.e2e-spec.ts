import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomainError, nodePattern } from '@streamstack/contracts';
import { RpcClient } from '@streamstack/transport';
import { NodeRuntime } from '../src/node/runtime/node-runtime.service';
import { ADMIN_TOKEN, eventually, RunningApp, startApp } from './support/app';
import { launchBrowser } from './support/browser';
import { client } from './support/http';
import { startNatsServer } from '@streamstack/transport/testing';
import { testPatternManifest } from './support/packages';
import { freshSchema } from './support/postgres';
import { openSignalling } from './support/signalling';
import { SplitShape } from './support/split-shape';

declare const window: any; // evaluated in the page
declare const document: any;

const rejection = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e as DomainError;
  }
  throw new Error('expected a rejection');
};

/** The same AMS message handlers, over the in-process transport and over a real nats-server. */
describe.each(['local', 'nats'] as const)('AMS message patterns over the %s transport', (kind) => {
  let stack: RunningApp;
  let nats: Awaited<ReturnType<typeof startNatsServer>> | undefined;
  let rpc: RpcClient;
  let api: ReturnType<typeof client>;

  beforeAll(async () => {
    if (kind === 'nats') nats = await startNatsServer();
    stack = await startApp({ STREAMSTACK_TRANSPORT: kind, ...(nats ? { STREAMSTACK_NATS_SERVERS: nats.url } : {}) });
    rpc = stack.app.get(RpcClient);
    api = client(stack.url, ADMIN_TOKEN);
    await eventually(async () => (await api('GET', '/ams/1.0/nodes')).body.metadata?.length === 1);
    await api('POST', '/ams/1.0/applications', { body: testPatternManifest('over-the-wire') });
  });
  afterAll(async () => {
    await stack?.close();
    await nats?.stop();
  });

  it('answers ams.capacity with the node\'s real capacity', async () => {
    const answer = await rpc.request<{ capacity: { cpus: number; memory: number }; load: object }>('ams.capacity', {});
    expect(answer.capacity.cpus).toBeGreaterThan(0);
    expect(answer.capacity.memory).toBeGreaterThan(0);
  });

  it('launches, stops and deletes an instance through ams.instance.*', async () => {
    const launched = await rpc.request<{ instance: { id: string; status: string }; operation: { id: string } }>('ams.instance.launch', { app: 'over-the-wire' });
    expect(launched.instance.status).toBe('created');
    const id = launched.instance.id;
    const op = await api('GET', `/ams/1.0/operations/${launched.operation.id}/wait?timeout=60`);
    expect(op.body.metadata.status).toBe('success');
    expect((await api('GET', `/ams/1.0/instances/${id}`)).body.metadata.status).toBe('running');

    const stopped = await rpc.request<{ operation: { id: string } }>('ams.instance.stop', { id });
    await api('GET', `/ams/1.0/operations/${stopped.operation.id}/wait?timeout=60`);
    expect((await api('GET', `/ams/1.0/instances/${id}`)).body.metadata.status).toBe('stopped');

    const deleted = await rpc.request<{ operation: { id: string } }>('ams.instance.delete', { id });
    await api('GET', `/ams/1.0/operations/${deleted.operation.id}/wait?timeout=60`);
    expect((await api('GET', `/ams/1.0/instances/${id}`)).status).toBe(404);
  });

  it('carries typed errors with the same code and message', async () => {
    const missing = await rejection(rpc.request('ams.instance.launch', { app: 'nope' }));
    expect(missing).toBeInstanceOf(DomainError);
    expect(missing).toMatchObject({ code: 'not_found', message: 'application "nope" not found' });

    const invalid = await rejection(rpc.request('ams.instance.launch', { app: 42, surprise: true }));
    expect(invalid.code).toBe('invalid_argument');
    expect(invalid.message).toContain('app must be a string');
    expect(invalid.message).toContain('surprise should not exist');
  });

  it('refuses malformed session payloads between roles, naming the field, and creates nothing', async () => {
    const screen = { width: 1280, height: 720, fps: 30, density: 240 };
    const sessionsBefore = (await api('GET', '/1.0/sessions')).body.metadata.length;
    const instancesBefore = (await api('GET', '/ams/1.0/instances')).body.metadata.length;
    const nodeName = ((await api('GET', '/ams/1.0/nodes')).body.metadata as { name: string }[])[0].name;
    const cases: [string, unknown, string[]][] = [
      ['agent.local.session.launch', { session_id: 's1', app: 'over-the-wire', screen: { ...screen, fps: 500 } }, ['screen.fps must not be greater than 60']],
      ['agent.local.session.launch', { session_id: 's1', app: '../etc', screen }, ['app must be lowercase letters']],
      ['agent.local.session.launch', { app: 'over-the-wire' }, ['session_id must be a string', 'screen should not be null or undefined']],
      ['agent.instance.session', { instance_id: 'i1', app: 'over-the-wire', app_version: 1, screen, sneaky: 1 }, ['node must be a string', 'sneaky should not exist']],
      ['gateway.session.create', { instance_id: 'i1', app: 'over-the-wire', app_version: 0, node: null, region: 'Local!', screen }, ['app_version must not be less than 1', 'region must be lowercase letters']],
      ['agent.register', { agent_id: 'a1', region: 'local', capacity: { cpus: 1, memory: 1, instances: 1 }, load: { cpus: 0, memory: 0, instances: 0 }, ams_error: 'x'.repeat(501) }, ['ams_error must be shorter than or equal to 500 characters']],
      ['ams.node.register', { name: 'n9', address: 'a', cpus: 1, memory: 1, instances: [1] }, ['each value in instances must be a string']],
      [
        nodePattern(nodeName, 'start'),
        { instance_id: 'i9', app: 'a', app_version: 1, kind: 'x11', command: 'true', display: screen, encoder: { codec: 'h264', bitrate_kbps: 500, gop: 30 }, network: 'host', env: { HOME: '/' } },
        ['network must be one of the following values: none, outbound', 'env HOME is set by the node'],
      ],
    ];
    for (const [pattern, payload, messages] of cases) {
      const err = await rejection(rpc.request(pattern, payload));
      expect(err.code).toBe('invalid_argument');
      for (const m of messages) expect(err.message).toContain(m);
    }
    // Events have nobody to answer: a malformed one is dropped and changes nothing (the status and
    // client-state payloads by their DTOs, with a warning; a relayed signal by the relay itself).
    rpc.emit('gateway.session.client-state', { session_id: 42, generation: -1, state: 'dancing' });
    rpc.emit('ams.instance.status', { id: 'x', status: 'exploded' });
    rpc.emit('signal.x.to-client', { session_id: 'x', generation: 1, message: 'not an object' });
    await new Promise((r) => setTimeout(r, 200));
    expect((await api('GET', '/1.0/sessions')).body.metadata.length).toBe(sessionsBefore);
    expect((await api('GET', '/ams/1.0/instances')).body.metadata.length).toBe(instancesBefore);
    expect(((await api('GET', '/ams/1.0/nodes')).body.metadata as { name: string }[]).map((n) => n.name)).not.toContain('n9');
    expect((await api('GET', '/1.0/status')).status).toBe(200);
  });

  it('bounds a request nobody answers by its timeout', async () => {
    const started = Date.now();
    const err = await rejection(rpc.request('nobody.listens.here', {}, { timeoutMs: 300 }));
    expect(['no_responder', 'timeout']).toContain(err.code);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('split topology over NATS: gateway+agent+AMS in one app, the node in another', () => {
  const split = new SplitShape();
  let control: RunningApp;
  let node: RunningApp;
  const startNode = () => split.start('node', { STREAMSTACK_NODE_NAME: 'far-away' });

  beforeAll(async () => {
    await split.bus();
    control = await split.start('gateway,agent,ams');
    node = await startNode();
  });
  afterAll(() => split.stop());

  it('schedules an instance onto the remote node, which runs it', async () => {
    const api = client(control.url, ADMIN_TOKEN);
    const [registered] = await eventually(async () => {
      const nodes = (await api('GET', '/ams/1.0/nodes')).body.metadata;
      return nodes?.length === 1 ? nodes : null;
    });
    expect(registered).toMatchObject({ name: 'far-away', status: 'online' });
    await api('POST', '/ams/1.0/applications', { body: testPatternManifest('split') });
    const launched = await api('POST', '/ams/1.0/instances', { body: { app: 'split' } });
    const op = await api('GET', `${launched.body.operation}/wait?timeout=60`);
    expect(op.body.metadata).toMatchObject({ status: 'success' });
    const id = op.body.metadata.resources.instances[0].split('/').pop();
    expect(node.app.get(NodeRuntime).list().map((i) => i.instance_id)).toEqual([id]);
    expect((await api('GET', `/ams/1.0/instances/${id}/logs`)).body.metadata.length).toBeGreaterThan(0);
    const del = await api('DELETE', `/ams/1.0/instances/${id}?force=true`);
    expect((await api('GET', `${del.body.operation}/wait?timeout=60`)).body.metadata.status).toBe('success');
    expect(node.app.get(NodeRuntime).list()).toEqual([]);
  });

  it('starts the instances of a restarted node again there, their sessions active throughout; the SDK streams again', async () => {
    // They went `error` while AMS restarted their instances, which then held capacity for good.
    const admin = client(control.url, ADMIN_TOKEN);
    await admin('POST', '/ams/1.0/applications', { body: testPatternManifest('survivor') });
    const token = (await admin('POST', '/1.0/accounts', { body: { name: 'restart-user', role: 'client' } })).body.metadata.token;
    const user = client(control.url, token);
    const session = (await user('POST', '/1.0/sessions', { body: { app: 'survivor', ephemeral: false, joinable: true, idle_time_min: 5 } })).body.metadata;
    const shown = await eventually(async () => {
      const s = (await user('GET', `/1.0/sessions/${session.id}`)).body.metadata;
      return s.status === 'active' ? s : null;
    }, 30_000);
    // A person watching it in a browser: the SDK, which should join again once the instance is back.
    const chromium = await launchBrowser();
    try {
      const page = await chromium.browser.newPage();
      await page.goto(control.url);
      await page.addScriptTag({ url: '/sdk/streamstack.js' });
      await page.evaluate(
        async ([t, id]) => {
          const element = document.createElement('div');
          document.body.replaceChildren(element);
          const c = (window.sdk = new window.Streamstack.StreamstackClient({ token: t, element }));
          window.events = [];
          for (const e of ['ready', 'reconnecting', 'error', 'closed']) c.on(e, (p: any) => window.events.push(e === 'reconnecting' ? `reconnecting: ${p.error.message}` : e === 'error' ? `error: ${p.message}` : e));
          await c.join(id);
        },
        [token, session.id],
      );
      const framesShown = () => page.evaluate(() => window.sdk.video.getVideoPlaybackQuality().totalVideoFrames as number);
      const seen = new Set<string>();
      const restarting = new Set<boolean>();
      let watching = true;
      const watch = (async () => {
        while (watching) {
          const s = (await user('GET', `/1.0/sessions/${session.id}`)).body.metadata;
          seen.add(`${s.status}${s.status_message ? `: ${s.status_message}` : ''}`);
          restarting.add(s.instance_restarting);
          await new Promise((r) => setTimeout(r, 25));
        }
      })();

      await node.close();
      node = await startNode();
      await eventually(async () => node.app.get(NodeRuntime).list().some((i) => i.instance_id === shown.instance_id), 30_000);
      const instance = await eventually(async () => {
        const i = (await admin('GET', `/ams/1.0/instances/${shown.instance_id}`)).body.metadata;
        return i.status === 'running' ? i : null;
      });
      expect(instance.node).toBe('far-away');
      const after = await eventually(async () => {
        const s = (await user('GET', `/1.0/sessions/${session.id}`)).body.metadata;
        return s.status === 'active' && !s.instance_restarting ? s : null;
      });
      watching = false;
      await watch;
      expect(after.instance_id).toBe(shown.instance_id);
      expect([...seen].filter((s) => !s.startsWith('active'))).toEqual([]);
      expect([...seen].some((s) => s.startsWith('active: its instance is restarting: node far-away restarted'))).toBe(true);
      // The same, for programs: what the SDK waits on before it joins again.
      expect([...restarting].sort()).toEqual([false, true]);
      expect(after.status_message).toBe('');
      // The SDK said it was reconnecting (the instance went away: not "another client took over")
      // and is streaming the restarted instance, frames coming.
      await page.waitForFunction(() => window.events.filter((e: string) => e === 'ready').length === 2, undefined, { timeout: 40_000 });
      const events: string[] = await page.evaluate(() => window.events);
      expect(events).toEqual(['ready', expect.stringMatching(/^reconnecting: /), 'ready']);
      const before = await framesShown();
      await eventually(async () => (await framesShown()) > before + 10, 10_000);
    } finally {
      await chromium.close();
    }
    await user('DELETE', `/1.0/sessions/${session.id}`);
  }, 150_000);
});

describe('/1.0/status in the split shape reports each dependency', () => {
  // It said "healthy" with NATS down, and "no agent has registered" while AMS was down and the agents up.
  const split = new SplitShape();
  let gateway: RunningApp;
  let ams: RunningApp;

  beforeAll(async () => {
    await split.bus();
    ams = await split.start('ams');
    gateway = await split.start('gateway,agent');
  });
  afterAll(() => split.stop());

  const status = () => client(gateway.url)('GET', '/1.0/status');

  it('healthy with every dependency up, each named', async () => {
    const up = await eventually(async () => {
      const r = await status();
      return r.status === 200 ? r : null;
    }, 20_000);
    expect(up.body.metadata).toMatchObject({ status: 'healthy', dependencies: { database: 'ok', message_bus: 'ok', agents: [{ ams: 'ok' }] } });
  });

  it('with AMS down: unhealthy because the agent\'s AMS does not answer, the agent still there', async () => {
    await ams.close();
    const down = await eventually(async () => {
      const r = await status();
      return r.status === 503 ? r : null;
    }, 25_000);
    expect(down.body.metadata.status).toBe('unhealthy');
    expect(down.body.metadata.problems.join('\n')).toMatch(/its AMS does not answer: AMS is not running/);
    expect(down.body.metadata.problems.join('\n')).not.toMatch(/no stream agent has registered/);
    expect(down.body.metadata.dependencies.agents).toHaveLength(1);
  });

  it('with NATS down: unhealthy, naming the message bus', async () => {
    await split.nats.stop();
    const down = await eventually(async () => {
      const r = await status();
      return /message bus \(nats\)/.test((r.body.metadata?.problems ?? []).join('\n')) ? r : null;
    }, 15_000);
    expect(down.status).toBe(503);
    expect(down.body.metadata.dependencies.message_bus).toMatch(/^not carrying requests/);
  });
});

describe('tokens in the split shape: each HTTP role verifies them, through a bus or gateway outage', () => {
  // With NATS down every authenticated call on every process answered 503, plain reads too.
  const split = new SplitShape();
  let gateway: RunningApp;
  let ams: RunningApp;

  beforeAll(async () => {
    await split.bus();
    gateway = await split.start('gateway,agent');
    ams = await split.start('ams');
  });
  afterAll(() => split.stop());

  it("AMS stops trusting a revoked account's token as soon as the gateway revokes it", async () => {
    const ops = (await client(gateway.url, ADMIN_TOKEN)('POST', '/1.0/accounts', { body: { name: 'ops', role: 'admin' } })).body.metadata;
    const asOps = client(ams.url, ops.token);
    expect((await asOps('GET', '/ams/1.0/applications')).status).toBe(200);
    expect((await client(gateway.url, ADMIN_TOKEN)('DELETE', '/1.0/accounts/ops')).status).toBe(200);
    await eventually(async () => (await asOps('GET', '/ams/1.0/applications')).status === 401, 5000);
  });

  it('with NATS down: the gateway still verifies against its accounts, AMS trusts the tokens it already verified, and refuses others clearly', async () => {
    expect((await client(ams.url, ADMIN_TOKEN)('GET', '/ams/1.0/applications')).status).toBe(200);
    const later = (await client(gateway.url, ADMIN_TOKEN)('POST', '/1.0/accounts', { body: { name: 'later', role: 'admin' } })).body.metadata;
    await split.nats.stop();
    const onGateway = await client(gateway.url, ADMIN_TOKEN)('GET', '/1.0/sessions');
    expect(onGateway.status).toBe(200);
    const onAms = await client(ams.url, ADMIN_TOKEN)('GET', '/ams/1.0/applications');
    expect(onAms.status).toBe(200);
    // A token AMS never saw cannot be checked while the gateway cannot be asked: 503, saying why.
    const unknown = await client(ams.url, later.token)('GET', '/ams/1.0/applications');
    expect(unknown.status).toBe(503);
    expect(unknown.body.error).toMatch(/gateway|message bus|nats/i);
  });
});

describe("a session deleted while its region's AMS is down", () => {
  // DELETE answered 503 and left the session `error` with its instance running; nothing retried.
  const split = new SplitShape();
  let gateway: RunningApp;
  let backend: RunningApp;
  const dataDir = mkdtempSync(join(tmpdir(), 'streamstack-e2e-backend-'));
  const startBackend = () => split.start('ams,node', { STREAMSTACK_DATA_DIR: dataDir }, { keepData: true });

  beforeAll(async () => {
    await split.bus();
    backend = await startBackend();
    gateway = await split.start('gateway,agent');
  });
  afterAll(async () => {
    await split.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('ends for its users at once, and its instance is deleted once AMS answers again', async () => {
    const admin = client(gateway.url, ADMIN_TOKEN);
    await eventually(async () => (await admin('GET', '/1.0/status')).status === 200, 20_000);
    expect((await client(backend.url, ADMIN_TOKEN)('POST', '/ams/1.0/applications', { body: testPatternManifest('outlived') })).status).toBe(201);
    const alice = client(gateway.url, (await admin('POST', '/1.0/accounts', { body: { name: 'alice', role: 'client' } })).body.metadata.token);
    const created = await alice('POST', '/1.0/sessions', { body: { app: 'outlived', ephemeral: false, screen: { width: 800, height: 600 } } });
    expect(created.status).toBe(201);
    const id = created.body.metadata.id as string;
    const active = await eventually(async () => {
      const s = (await alice('GET', `/1.0/sessions/${id}`)).body.metadata;
      return s.status === 'active' ? s : null;
    }, 30_000);

    await backend.close();
    const del = await alice('DELETE', `/1.0/sessions/${id}`);
    expect(del.status).toBe(200);
    expect(del.body.metadata.status).toBe('terminating');
    expect(del.body.metadata.status_message).toMatch(/its instance is deleted once region \S+ answers/);

    backend = await startBackend();
    const ended = await eventually(async () => {
      const s = (await alice('GET', `/1.0/sessions/${id}`)).body.metadata;
      return s.status === 'terminated' ? s : null;
    }, 40_000);
    expect(ended.status_message).not.toMatch(/once region/);
    await eventually(async () => (await client(backend.url, ADMIN_TOKEN)('GET', `/ams/1.0/instances/${active.instance_id}`)).status === 404, 30_000);
  });
});

describe('a launch placed on a node that died', () => {
  // A dead node looked online for 30 s and, as the emptiest, won every placement: launches failed.
  const split = new SplitShape();
  let ams: RunningApp;
  const nodes: RunningApp[] = [];

  beforeAll(async () => {
    await split.bus();
    ams = await split.start('gateway,agent,ams');
    for (const name of ['node-a', 'node-b']) nodes.push(await split.start('node', { STREAMSTACK_NODE_NAME: name }));
  });
  afterAll(() => split.stop());

  it('marks that node offline and starts the instance on another', async () => {
    const api = client(ams.url, ADMIN_TOKEN);
    await eventually(async () => (await api('GET', '/ams/1.0/nodes')).body.metadata?.length === 2, 20_000);
    await api('POST', '/ams/1.0/applications', { body: testPatternManifest('survivor') });
    await nodes[0].close(); // node-a: equal to node-b and first by name, so AMS picks it
    const launched = await api('POST', '/ams/1.0/instances', { body: { app: 'survivor' } });
    const op = await api('GET', `${launched.body.operation}/wait?timeout=60`);
    expect(op.body.metadata).toMatchObject({ status: 'success', err: '' });
    const id = op.body.metadata.resources.instances[0].split('/').pop();
    expect((await api('GET', `/ams/1.0/instances/${id}`)).body.metadata).toMatchObject({ status: 'running', node: 'node-b' });
    const byName = Object.fromEntries(((await api('GET', '/ams/1.0/nodes')).body.metadata as { name: string; status: string }[]).map((n) => [n.name, n.status]));
    expect(byName).toEqual({ 'node-a': 'offline', 'node-b': 'online' });
    expect(nodes[1].app.get(NodeRuntime).list().map((i) => i.instance_id)).toEqual([id]);
    const del = await api('DELETE', `/ams/1.0/instances/${id}?force=true`);
    expect((await api('GET', `${del.body.operation}/wait?timeout=60`)).body.metadata.status).toBe('success');
  });
});

describe('a session placed in a region whose agent died', () => {
  // A dead agent stayed selectable for 30 s with no failover to another region, and ties (two
  // agents in front of one AMS report the same capacity) always went to the first.
  const split = new SplitShape();
  let control: RunningApp;
  let farAgent: RunningApp;

  beforeAll(async () => {
    await split.bus();
    control = await split.start('gateway,agent,ams,node', { STREAMSTACK_REGION: 'near' });
    farAgent = await split.start('agent', { STREAMSTACK_REGION: 'far' });
  });
  afterAll(() => split.stop());

  it('launches in a region that answers, and forgets the dead one at once', async () => {
    const admin = client(control.url, ADMIN_TOKEN);
    await eventually(async () => ((await admin('GET', '/1.0/regions')).body.metadata ?? []).length === 2, 20_000);
    await admin('POST', '/ams/1.0/applications', { body: testPatternManifest('anywhere') });
    const alice = client(control.url, (await admin('POST', '/1.0/accounts', { body: { name: 'alice', role: 'client' } })).body.metadata.token);
    await farAgent.close(); // still registered for up to 30 s
    // Two sessions: the tied regions are taken in turn, so one of them is placed in "far" first.
    for (let k = 0; k < 2; k++) {
      const created = await alice('POST', '/1.0/sessions', { body: { app: 'anywhere', screen: { width: 800, height: 600 } } });
      expect(created.status).toBe(201);
      expect(created.body.metadata.region).toBe('near');
      await alice('DELETE', `/1.0/sessions/${created.body.metadata.id}`);
    }
    expect((await admin('GET', '/1.0/regions')).body.metadata).toEqual([{ name: 'near' }]);
    // Asked for by name, a dead region is an error that says so (no silent move).
    const pinned = await alice('POST', '/1.0/sessions', { body: { app: 'anywhere', region: 'far' } });
    expect(pinned.status).toBe(503);
  });
});

describe('two gateways on one database', () => {
  // Both acted on every instance event; the one that marked a session active told only its own
  // sockets, so a client whose socket the other held waited for resp:discover for good.
  const split = new SplitShape();
  let db: Awaited<ReturnType<typeof freshSchema>>;
  let control: RunningApp;
  let second: RunningApp;

  beforeAll(async () => {
    await split.bus();
    db = await freshSchema();
    control = await split.start('gateway,agent,ams,node', { STREAMSTACK_DATABASE_URL: db.url });
    second = await split.start('gateway', { STREAMSTACK_DATABASE_URL: db.url });
    const admin = client(control.url, ADMIN_TOKEN);
    await eventually(async () => (await admin('GET', '/1.0/status')).status === 200, 20_000);
    await admin('POST', '/ams/1.0/applications', { body: testPatternManifest('twice') });
    await eventually(async () => (await client(second.url, ADMIN_TOKEN)('GET', '/1.0/status')).status === 200, 20_000);
  });
  afterAll(async () => {
    await split.stop();
    await db?.drop();
  });

  it("activates, replaces and ends a session's signalling whichever gateway holds its socket", async () => {
    const viaSecond = client(second.url, ADMIN_TOKEN);
    const viaControl = client(control.url, ADMIN_TOKEN);
    for (let i = 0; i < 4; i++) {
      const created = await viaSecond('POST', '/1.0/sessions', { body: { app: 'twice', joinable: true, idle_time_min: 5, screen: { width: 800, height: 600, fps: 15 } } });
      expect(created.status).toBe(201);
      const socket = await openSignalling(created.body.metadata.url);
      socket.send({ type: 'discover' });
      await socket.next('resp:discover', 20_000);
      if (i === 0) {
        // Joined through the other gateway: the socket held here is replaced.
        expect((await viaControl('POST', `/1.0/sessions/${created.body.metadata.id}/join`, { body: {} })).status).toBe(200);
        expect((await socket.closed).code).toBe(4001);
      }
      // Ended through the other gateway: the socket held here closes.
      await viaControl('DELETE', `/1.0/sessions/${created.body.metadata.id}?force=true`);
      if (i > 0) expect((await socket.closed).code).toBe(4002);
    }
  });
});
