import { ChildProcess, execFile, spawn } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from './support/app';
import { client } from './support/http';
import { testPatternManifest } from './support/packages';
import { processesMentioning } from './support/processes';

const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'bin', 'streamstack');
const run = promisify(execFile);

/** The built binary as a user runs it: `streamstack serve`, then the CLI's verbs, then Ctrl-C. */
describe('the streamstack binary', () => {
  let dataDir: string;
  let server: ChildProcess;
  let output = '';
  let url: string;
  let token: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'streamstack-bin-'));
    server = spawn(BIN, ['serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], {
      env: { ...process.env, STREAMSTACK_ADMIN_TOKEN: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    server.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await eventually(async () => /Admin token[^:]*: (\S+)/.test(output), 30_000);
    url = /URL:\s+(\S+)/.exec(output)![1];
    token = /Admin token[^:]*: (\S+)/.exec(output)![1];
  });
  afterAll(() => {
    if (server.exitCode === null) server.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => run(BIN, [...args, '--url', url, '--token', token], { env: { ...process.env, STREAMSTACK_TOKEN: '' } });

  it('prints the URL, the API docs URL and a first-start admin token', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(output).toContain(`API docs: ${url}/docs`);
    expect(token.length).toBeGreaterThanOrEqual(22);
  });

  it('creates an application, launches an instance and lists both through the CLI', async () => {
    const created = await cli('app', 'create', join(ROOT, 'examples', 'test-pattern.json'));
    expect(created.stdout).toContain('test-pattern');
    const launched = await cli('instance', 'launch', 'test-pattern', '--screen', '1024x576@15');
    expect(launched.stdout).toMatch(/running/);
    const list = await cli('instance', 'list', '--json');
    const instances = JSON.parse(list.stdout) as { status: string; screen: { width: number } }[];
    expect(instances).toHaveLength(1);
    expect(instances[0]).toMatchObject({ status: 'running', screen: { width: 1024 } });
    expect((await cli('node', 'list')).stdout).toMatch(/online/);
    // The server and the instance's frame source at least (children's cwd is in the data dir).
    expect(processesMentioning(dataDir).length).toBeGreaterThanOrEqual(2);
  });

  it('keeps the data directory to itself: 0700, and nothing in it readable by others', () => {
    const open: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isSymbolicLink()) continue;
        if ((lstatSync(path).mode & 0o077) !== 0) open.push(`${path} ${(lstatSync(path).mode & 0o777).toString(8)}`);
        if (entry.isDirectory()) walk(path);
      }
    };
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    walk(dataDir);
    // The SQLite database, the signalling key, the instance's logs and sockets.
    expect(readdirSync(dataDir)).toEqual(expect.arrayContaining(['streamstack.sqlite', 'signalling.key', 'instances']));
    expect(open).toEqual([]);
  });

  it('reports errors on stderr with a non-zero exit code', async () => {
    await expect(cli('instance', 'show', 'no-such-instance')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('not found') });
  });

  it('stops cleanly on Ctrl-C, leaving no process behind', async () => {
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    server.kill('SIGINT');
    expect(await exited).toBe(0);
    await eventually(async () => processesMentioning(dataDir).length === 0, 5000);
  });

  it('does not print a token on the next start', async () => {
    let again = '';
    const second = spawn(BIN, ['serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
    second.stdout!.on('data', (d: Buffer) => (again += d.toString()));
    await eventually(async () => again.includes('Stop with Ctrl-C'), 30_000);
    expect(again).not.toContain('Admin token');
    const exited = new Promise((resolve) => second.once('exit', resolve));
    second.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it('starts a role without the gateway (AMS over NATS) without logging an error', async () => {
    // It logged a false level-50 "Nest could not find BootstrapAdmin element" at every start.
    const dir = mkdtempSync(join(tmpdir(), 'streamstack-bin-ams-'));
    let log = '';
    const ams = spawn(BIN, ['serve', '--port', '0', '--data-dir', dir, '--role', 'ams', '--log-level', 'info'], {
      env: { ...process.env, STREAMSTACK_ADMIN_TOKEN: 'bin-e2e-admin-token-0123456789' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    ams.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    ams.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    try {
      await eventually(async () => log.includes('Stop with Ctrl-C'), 30_000);
      expect(log).toContain('serving ams (transport nats');
      expect(log).not.toMatch(/"level":(50|60)/);
      expect(log).not.toContain('could not find');
    } finally {
      const exited = new Promise((resolve) => ams.once('exit', resolve));
      ams.kill('SIGINT');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('killed (SIGKILL) in the middle of a launch, finishes the launch at its next start', async () => {
    // It left the instance `prepared` and its operation `running` forever (issue 7, item 7).
    const dir = mkdtempSync(join(tmpdir(), 'streamstack-bin-kill-'));
    const adminToken = 'bin-e2e-admin-token-0123456789';
    const serve = () => {
      let log = '';
      // Cold starts (no warm spares) take a few hundred ms: the kill lands in the middle of one.
      const proc = spawn(BIN, ['serve', '--port', '0', '--data-dir', dir, '--log-level', 'warn'], {
        env: { ...process.env, STREAMSTACK_ADMIN_TOKEN: adminToken, STREAMSTACK_WARM_SPARES: 'false' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      proc.stdout!.on('data', (d: Buffer) => (log += d.toString()));
      proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      const ready = eventually(async () => /URL:\s+(\S+)/.exec(log)?.[1] ?? null, 30_000);
      return { proc, ready, log: () => log };
    };
    const first = serve();
    let second: ReturnType<typeof serve> | null = null;
    try {
      let api = client(await first.ready, adminToken);
      await eventually(async () => (await api('GET', '/ams/1.0/nodes')).body.metadata?.length === 1, 30_000);
      expect((await api('POST', '/ams/1.0/applications', { body: testPatternManifest('interrupted') })).status).toBe(201);
      const launched = await api('POST', '/ams/1.0/instances', { body: { app: 'interrupted' } });
      expect(launched.status).toBe(202);
      const killed = new Promise((resolve) => first.proc.once('exit', resolve));
      first.proc.kill('SIGKILL');
      await killed;
      // Its instance processes follow the server (they watch its IPC channel).
      await eventually(async () => processesMentioning(dir).length === 0, 10_000);

      second = serve();
      api = client(await second.ready, adminToken);
      const op = await api('GET', `${launched.body.operation}/wait?timeout=60`);
      expect(op.body.metadata).toMatchObject({ status: 'success', err: '' });
      const id = (launched.body.metadata.resources.instances[0] as string).split('/').pop();
      expect((await api('GET', `/ams/1.0/instances/${id}`)).body.metadata).toMatchObject({ status: 'running', status_message: '' });
      expect(second.log()).toMatch(/was interrupted by a restart: resuming it/);
    } finally {
      for (const s of [first, second]) {
        if (!s || s.proc.exitCode !== null || s.proc.signalCode !== null) continue;
        const exited = new Promise((resolve) => s.proc.once('exit', resolve));
        s.proc.kill('SIGINT');
        await exited;
      }
      await eventually(async () => processesMentioning(dir).length === 0, 10_000).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints the OpenAPI document the checked-in docs/openapi.json holds', async () => {
    const printed = await run(BIN, ['openapi'], { maxBuffer: 64 * 1024 * 1024 });
    expect(JSON.parse(printed.stdout)).toEqual(JSON.parse(readFileSync(join(ROOT, 'docs', 'openapi.json'), 'utf8')));
  });
});
