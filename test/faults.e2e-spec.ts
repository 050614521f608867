import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startNatsServer, type NatsServerHandle } from '@streamstack/transport/testing';
import { parse as parseEnv } from 'dotenv';
import { cleanup } from 'node-datachannel';
import { ApiClient } from '../src/cli/remote/api-client';
import { Viewer } from '../src/cli/loadtest/viewer';
import { eventually } from './support/app';
import { client } from './support/http';
import { testPatternManifest } from './support/packages';
import { freshSchema } from './support/postgres';
import { isAlive, processesMentioning } from './support/processes';

/*
 * Faults in the split shape, as real OS processes: the built binary as two gateways, agents in
 * regions r1 and r2, AMS, nodes n1 and n2, over a nats-server of the test's own (authenticated:
 * each process has its role's user from `streamstack nats-config`, so every flow below also
 * proves that the roles' subject permissions are enough), the gateways
 * and AMS on a fresh PostgreSQL schema. One client streams throughout (a loadtest viewer, peer to
 * peer with its node's media process). Each part is SIGKILLed in turn: what users see while it
 * is down, that it heals once the part is back, that no record is left half-done, and that no
 * process outlives the part it belonged to.
 */

const BIN = join(__dirname, '..', 'bin', 'streamstack');
const ADMIN = 'faults-admin-token-0123456789abcdef';
const SCREEN = { width: 800, height: 600, fps: 15 };

interface Part {
  name: string;
  roles: string;
  extra: string[];
  args: string[];
  dir: string;
  url: string;
  proc: ChildProcess;
  log: string;
}

jest.setTimeout(120_000);

describe('faults in the split shape, as OS processes', () => {
  let nats: NatsServerHandle;
  let natsPort: number;
  let db: Awaited<ReturnType<typeof freshSchema>>;
  const parts = new Map<string, Part>();
  let clientToken: string;
  let viewer: Viewer;
  let streamNode: string;

  const busDir = mkdtempSync(join(tmpdir(), 'streamstack-faults-bus-'));
  /** STREAMSTACK_NATS_USER and _PASSWORD of the role's user (an env file nats-config wrote). */
  const busCredentials = (role: string) => parseEnv(readFileSync(join(busDir, `${role}.env`)));
  const url = (name: string) => parts.get(name)!.url;
  const admin = (name = 'g1') => client(url(name), ADMIN);
  const user = (name = 'g1') => client(url(name), clientToken);

  async function start(name: string, roles: string, extra: string[] = []): Promise<Part> {
    const old = parts.get(name);
    const dir = old?.dir ?? mkdtempSync(join(tmpdir(), `streamstack-faults-${name}-`));
    const port = old ? Number(new URL(old.url).port) : await freePort();
    const shared = roles.includes('gateway') || roles.includes('ams') ? ['--database-url', db.url] : [];
    const args = ['serve', '--role', roles, '--port', String(port), '--data-dir', dir, '--transport', 'nats', '--nats-servers', nats.url, '--log-level', 'warn', ...shared, ...extra];
    const env = { ...process.env, ...busCredentials(roles), STREAMSTACK_ADMIN_TOKEN: ADMIN, STREAMSTACK_WARM_SPARES: 'false' };
    const proc = spawn(BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const part: Part = { name, roles, extra, args, dir, url: `http://127.0.0.1:${port}`, proc, log: '' };
    proc.stdout!.on('data', (d: Buffer) => (part.log += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (part.log += d.toString()));
    parts.set(name, part);
    try {
      await eventually(async () => (await fetch(`${part.url}/1.0/status`).catch(() => null)) !== null, 30_000);
    } catch (e) {
      // Say why: its own output (a clean-clone run once found both gateways silent for 30 s).
      throw new Error(`${name} (${roles}) did not answer /1.0/status: ${(e as Error).message}; exit ${proc.exitCode ?? proc.signalCode ?? 'none'}; its output: ${part.log.slice(-3000) || '(none)'}`);
    }
    return part;
  }

  /** SIGKILL: no shutdown hook runs. Resolves once it and every process it started are gone. */
  async function kill(name: string): Promise<void> {
    const part = parts.get(name)!;
    const exited = new Promise((r) => part.proc.once('exit', r));
    part.proc.kill('SIGKILL');
    await exited;
    // Its instance processes die with it (parent-death signal): none outlives it.
    await eventually(async () => processesMentioning(part.dir).length === 0, 10_000);
  }

  /** The same part again: same port, data dir and flags. */
  const restart = (name: string) => start(name, parts.get(name)!.roles, parts.get(name)!.extra);

  /** Frames the viewer received over `ms`. */
  const framesOver = async (ms: number) => {
    const before = viewer.video.frames;
    await new Promise((r) => setTimeout(r, ms));
    return viewer.video.frames - before;
  };

  /** Viewers done with, kept until cleanup(): a native wrapper collected before it crashes the process. */
  const doneViewers: Viewer[] = [];
  /** A new session streams (first keyframe) through gateway `via`. */
  const newSessionStreams = async (via = 'g1') => {
    const v = new Viewer(99, new ApiClient(url(via), clientToken), { app: 'pattern', screen: SCREEN });
    doneViewers.push(v);
    try {
      await v.start();
      return (await v.stop()).error;
    } catch (e) {
      await v.stop();
      return (e as Error).message;
    }
  };

  beforeAll(async () => {
    natsPort = await freePort();
    execFileSync(BIN, ['nats-config', '--out', busDir]);
    nats = await startNatsServer(natsPort, { configFile: join(busDir, 'nats-server.conf') });
    db = await freshSchema();
    await start('ams', 'ams');
    await Promise.all([start('g1', 'gateway'), start('g2', 'gateway')]);
    await Promise.all([start('a1', 'agent', ['--region', 'r1']), start('a2', 'agent', ['--region', 'r2'])]);
    await Promise.all([start('n1', 'node', ['--node-name', 'n1', '--ice-bind-address', '127.0.0.1']), start('n2', 'node', ['--node-name', 'n2', '--ice-bind-address', '127.0.0.1'])]);
    await eventually(async () => (await admin('ams')('GET', '/ams/1.0/nodes')).body.metadata?.length === 2, 30_000);
    await eventually(async () => (await admin('g1')('GET', '/1.0/status')).body.metadata?.dependencies?.agents?.length === 2, 30_000);
    expect((await admin('ams')('POST', '/ams/1.0/applications', { body: testPatternManifest('pattern', { display: SCREEN }) })).status).toBe(201);
    clientToken = (await admin('g1')('POST', '/1.0/accounts', { body: { name: 'viewer', role: 'client' } })).body.metadata.token;
    viewer = new Viewer(1, new ApiClient(url('g1'), clientToken), { app: 'pattern', screen: SCREEN });
    await viewer.start();
    const sessions = (await user()('GET', '/1.0/sessions')).body.metadata as Array<{ node: string }>;
    streamNode = sessions[0].node;
  }, 180_000);

  afterAll(async () => {
    await viewer?.stop();
    for (const p of parts.values()) if (p.proc.exitCode === null) p.proc.kill('SIGTERM');
    await Promise.all([...parts.values()].map((p) => (p.proc.exitCode === null ? new Promise((r) => p.proc.once('exit', r)) : null)));
    await nats?.stop();
    await db?.drop();
    // No process of any part is left behind.
    await eventually(async () => [...parts.values()].every((p) => processesMentioning(p.dir).length === 0), 15_000);
    for (const p of parts.values()) rmSync(p.dir, { recursive: true, force: true });
    rmSync(busDir, { recursive: true, force: true });
    cleanup();
  });

  it('a node that is not streaming dies: the stream goes on, a launch goes to the live node, the node heals on restart', async () => {
    const idle = streamNode === 'n1' ? 'n2' : 'n1';
    await kill(idle);
    expect(await framesOver(1000)).toBeGreaterThan(10);
    expect(await newSessionStreams()).toBeNull();
    await restart(idle);
    await eventually(async () => {
      const nodes = (await admin('ams')('GET', '/ams/1.0/nodes')).body.metadata as Array<{ name: string; status: string }>;
      return nodes.find((n) => n.name === idle)?.status === 'online';
    }, 30_000);
  });

  it('an agent dies: sessions go to the other region at once, the stream goes on, the agent heals on restart', async () => {
    await kill('a1');
    const t0 = Date.now();
    expect(await newSessionStreams()).toBeNull();
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(await framesOver(500)).toBeGreaterThan(4);
    await restart('a1');
    await eventually(async () => ((await admin('g1')('GET', '/1.0/status')).body.metadata?.dependencies?.agents ?? []).some((a: { region: string }) => a.region === 'r1'), 30_000);
  });

  it('a gateway dies: the other serves its users, the stream goes on; it heals on restart', async () => {
    await kill('g2');
    expect((await user('g1')('GET', '/1.0/sessions')).status).toBe(200);
    expect(await framesOver(500)).toBeGreaterThan(4);
    await restart('g2');
    expect((await user('g2')('GET', '/1.0/sessions')).status).toBe(200);
  });

  it('AMS dies: reads still answer, a new session fails fast and clearly, the stream goes on; AMS heals on restart', async () => {
    await kill('ams');
    expect((await user()('GET', '/1.0/sessions')).status).toBe(200);
    const t0 = Date.now();
    const refused = await user()('POST', '/1.0/sessions', { body: { app: 'pattern', screen: SCREEN } });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatch(/AMS/);
    expect(Date.now() - t0).toBeLessThan(12_000);
    expect(await framesOver(500)).toBeGreaterThan(4);
    await restart('ams');
    await eventually(async () => (await admin('g1')('GET', '/1.0/status')).status === 200, 30_000);
    expect(await newSessionStreams()).toBeNull();
  });

  it('the nats-server is SIGKILLed: authenticated reads still answer on each HTTP role, launches fail clearly, the stream goes on; all heal when it is back', async () => {
    expect((await admin('ams')('GET', '/ams/1.0/nodes')).status).toBe(200); // AMS has verified this token
    await nats.stop('SIGKILL');
    expect((await user('g1')('GET', '/1.0/sessions')).status).toBe(200);
    expect((await admin('ams')('GET', '/ams/1.0/nodes')).status).toBe(200);
    const refused = await user()('POST', '/1.0/sessions', { body: { app: 'pattern', screen: SCREEN } });
    expect(refused.status).toBe(503);
    expect(await framesOver(1000)).toBeGreaterThan(10);
    const logsFrom = new Map([...parts].map(([name, p]) => [name, p.log.length]));
    nats = await startNatsServer(natsPort, { configFile: join(busDir, 'nats-server.conf') });
    // Each process reconnects on its own schedule (nats.js backoff): AMS may serve its subjects
    // a few seconds after the gateway is back. Launches work again once all are. Two clean-clone
    // runs (of about a dozen) found the first launch after the restart created but its viewer
    // never past signalling in 30 s, one launch's whole budget: a second launch may follow, and
    // a failure quotes what each process said since the restart.
    let why: string | null = 'not tried';
    await eventually(async () => (why = await newSessionStreams()) === null, 60_000, 500).catch((e: Error) => {
      const said = [...parts].map(([name, p]) => `--- ${name}: ${p.log.slice(logsFrom.get(name) ?? 0).slice(-1500) || '(nothing)'}`).join('\n');
      throw new Error(`${e.message}; the last launch: ${why}\n${said}`);
    });
  }, 150_000);

  it('the streaming node dies: the stream stops, no process outlives it; restarted, it runs the instance again and the session is still there', async () => {
    const [session] = (await user()('GET', '/1.0/sessions')).body.metadata as Array<{ id: string; instance_id: string }>;
    await kill(streamNode);
    expect(await framesOver(1000)).toBeLessThanOrEqual(1);
    await restart(streamNode);
    const instance = await eventually(async () => {
      const i = (await admin('ams')('GET', `/ams/1.0/instances/${session.instance_id}`)).body.metadata;
      return i.status === 'running' ? i : null;
    }, 30_000);
    expect(instance.node).toBe(streamNode);
    const after = await eventually(async () => {
      const v = (await user()('GET', `/1.0/sessions/${session.id}`)).body.metadata;
      return v.status === 'active' && v.status_message === '' ? v : null;
    });
    expect(after.instance_id).toBe(session.instance_id);
  });

  it('leaves no record half-done: every operation ends, every instance running or gone', async () => {
    // The last sessions' deletes may still be under way: they must end, not hang.
    await eventually(async () => {
      const operations = (await admin('ams')('GET', '/ams/1.0/operations')).body.metadata as Array<{ status: string }>;
      return operations.every((o) => o.status !== 'running' && o.status !== 'pending');
    }, 20_000);
    const instances = (await admin('ams')('GET', '/ams/1.0/instances')).body.metadata as Array<{ id: string; status: string }>;
    expect(instances.filter((i) => i.status !== 'running')).toEqual([]);
    for (const p of parts.values()) expect(isAlive(p.proc.pid!)).toBe(true);
  });
});
