import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseEnv } from 'dotenv';
import { connect, NatsConnection, StringCodec } from 'nats';
import { startNatsServer, type NatsServerHandle } from '@streamstack/transport/testing';

/*
 * The authenticated bus (issue 9): `streamstack nats-config` writes a nats-server config with one
 * user per role and their subject permissions; a real nats-server started with it refuses
 * whoever has no credentials, and keeps each role to its own subjects. (test/faults.e2e-spec.ts
 * runs the whole split shape on such a bus: the permissions are enough for every flow.)
 */

const BIN = join(__dirname, '..', 'bin', 'streamstack');
const sc = StringCodec();

describe('the NATS bus with per-role users (streamstack nats-config)', () => {
  let dir: string;
  let nats: NatsServerHandle;
  const open: NatsConnection[] = [];

  const credentials = (user: string) => parseEnv(readFileSync(join(dir, `${user}.env`)));
  async function as(user: string): Promise<NatsConnection> {
    const c = credentials(user);
    const nc = await connect({ servers: nats.url, user: c.STREAMSTACK_NATS_USER, pass: c.STREAMSTACK_NATS_PASSWORD, reconnect: false });
    open.push(nc);
    return nc;
  }

  /** Whether a message `from` publishes on `subject` reaches a subscriber that may hear it. */
  async function delivered(from: NatsConnection, listener: NatsConnection, subject: string): Promise<boolean> {
    const sub = listener.subscribe(subject, { max: 1 });
    await listener.flush();
    from.publish(subject, sc.encode('{}'));
    await from.flush().catch(() => undefined);
    const got = await Promise.race([(async () => { for await (const _ of sub) return true; return false; })(), new Promise<boolean>((r) => setTimeout(() => r(false), 500))]);
    sub.unsubscribe();
    return got;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'streamstack-bus-'));
    const out = execFileSync(BIN, ['nats-config', '--out', dir, '--user', 'gateway:gateway', '--user', 'agent:agent', '--user', 'ams:ams', '--user', 'n1:node', '--user', 'control:gateway,agent,ams']).toString();
    expect(out).toContain('nats-server.conf');
    nats = await startNatsServer(undefined, { configFile: join(dir, 'nats-server.conf') });
  });
  afterAll(async () => {
    await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses bad flags with a usage error (exit 2) and writes nothing', () => {
    const bad = mkdtempSync(join(tmpdir(), 'streamstack-bus-bad-'));
    const aFile = join(bad, 'a-file');
    writeFileSync(aFile, '');
    const cases: Array<[string[], string]> = [
      [[], '--out DIR is required'],
      [['--user', 'n1:node'], '--out DIR is required'],
      [['--out', join(bad, 'x'), '--user', 'n1'], '--user n1: use NAME:ROLE[,ROLE…], NAME of 1 to 64 letters, digits, _ or -, roles among gateway, agent, ams, node'],
      [['--out', join(bad, 'x'), '--user', 'n1:nodes'], '--user n1:nodes: use NAME:ROLE'],
      [['--out', join(bad, 'x'), '--user', 'n1:'], '--user n1:: use NAME:ROLE'],
      [['--out', join(bad, 'x'), '--user', 'n 1:node'], '--user n 1:node: use NAME:ROLE'],
      [['--out', join(bad, 'x'), '--user', `${'n'.repeat(65)}:node`], `--user ${'n'.repeat(65)}:node: use NAME:ROLE`],
      [['--out', join(bad, 'x'), '--user', 'n1:node', '--user', 'n1:gateway'], '--user n1 is given twice'],
      [['--out', join(aFile, 'sub'), '--user', 'n1:node'], `--out ${join(aFile, 'sub')}: cannot make that directory (ENOTDIR)`],
    ];
    try {
      for (const [args, message] of cases) {
        const r = spawnSync(BIN, ['nats-config', ...args], { encoding: 'utf8' });
        expect({ args, status: r.status, stderr: r.stderr }).toEqual({ args, status: 2, stderr: expect.stringContaining(`streamstack nats-config: ${message}`) });
        expect(r.stdout).toBe('');
      }
      expect(readdirSync(bad)).toEqual(['a-file']);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });

  it('writes the config and the env files for its owner only', () => {
    expect(statSync(join(dir, 'nats-server.conf')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'n1.env')).mode & 0o777).toBe(0o600);
    expect(credentials('n1')).toEqual({ STREAMSTACK_NATS_USER: 'n1', STREAMSTACK_NATS_PASSWORD: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/) });
  });

  it('refuses a connection without credentials, or with a wrong password', async () => {
    await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow(/Authorization Violation/i);
    await expect(connect({ servers: nats.url, user: 'n1', pass: 'guess', reconnect: false })).rejects.toThrow(/Authorization Violation/i);
  });

  it("keeps a node to its subjects: it cannot speak for the gateway or AMS, nor start an instance on a node", async () => {
    const [node, gateway, ams] = [await as('n1'), await as('gateway'), await as('ams')];
    // What a node says is heard…
    expect(await delivered(node, ams, 'ams.node.heartbeat')).toBe(true);
    // …and nothing else it tries.
    expect(await delivered(node, ams, 'gateway.account.revoked')).toBe(false);
    expect(await delivered(node, gateway, 'gateway.session.changed')).toBe(false);
    expect(await delivered(node, gateway, 'ams.instance.status')).toBe(false);
    expect(await delivered(node, node, 'node.n2.instance.start')).toBe(false);
  });

  it('lets only AMS ask a node to start an instance: not an agent, not a gateway', async () => {
    const [agent, gateway, ams, node] = [await as('agent'), await as('gateway'), await as('ams'), await as('n1')];
    expect(await delivered(ams, node, 'node.n1.instance.start')).toBe(true);
    expect(await delivered(agent, node, 'node.n1.instance.start')).toBe(false);
    expect(await delivered(gateway, node, 'node.n1.instance.start')).toBe(false);
    // An agent asks AMS to launch, which is its job.
    expect(await delivered(agent, ams, 'ams.instance.launch')).toBe(true);
  });

  it('gives a process that runs several roles the union of their subjects', async () => {
    const [control, node] = [await as('control'), await as('n1')];
    expect(await delivered(control, node, 'node.n1.instance.stop')).toBe(true);
    expect(await delivered(control, control, 'agent.r1.session.launch')).toBe(true);
  });
});
