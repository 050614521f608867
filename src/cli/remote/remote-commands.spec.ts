import { Parser } from 'tar';
import { Module } from '@nestjs/common';
import { CommandFactory, CommandRunnerService } from 'nest-commander';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient, ApiError } from './api-client';
import { REMOTE_COMMANDS } from './index';
import { WAIT_SETTINGS } from './operation';
import { terminal } from './output';

/*
 * The commands run through nest-commander and commander exactly as `streamstack` runs them,
 * against a local HTTP server that records each request and answers canned envelopes.
 */

@Module({ providers: REMOTE_COMMANDS })
class TestCliModule {}

interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface Reply {
  status?: number;
  body?: unknown;
  /** Sent as is instead of JSON. */
  raw?: string;
  contentType?: string;
  delayMs?: number;
}

type Handler = (req: Recorded) => Reply;

class FakeApi {
  readonly requests: Recorded[] = [];
  private readonly routes = new Map<string, Handler>();
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const u = new URL(req.url ?? '/', 'http://x');
        const rec: Recorded = { method: req.method ?? '', path: u.pathname, query: u.searchParams, headers: req.headers, body: Buffer.concat(chunks) };
        this.requests.push(rec);
        const handler = this.routes.get(`${rec.method} ${rec.path}`);
        const reply = handler ? handler(rec) : fail(404, `no route ${rec.method} ${rec.path}`);
        setTimeout(() => {
          res.writeHead(reply.status ?? 200, { 'Content-Type': reply.contentType ?? 'application/json' });
          res.end(reply.raw ?? JSON.stringify(reply.body));
        }, reply.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  on(route: string, reply: Handler | Reply): this {
    this.routes.set(route, typeof reply === 'function' ? reply : () => reply);
    return this;
  }

  /** Requests other than the progress samples, which depend on timing. */
  calls(route: string): Recorded[] {
    const [method, path] = route.split(' ');
    return this.requests.filter((r) => r.method === method && r.path === path);
  }

  async stop(): Promise<void> {
    // fetch keeps connections alive; drop them so close() returns.
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const ok = (metadata: unknown, status = 200, extra: Record<string, unknown> = {}): Reply => ({
  status,
  body: { type: 'sync', status: 'success', status_code: status, metadata, ...extra },
});
const fail = (status: number, error: string): Reply => ({ status, body: { type: 'error', status: 'failed', status_code: status, error } });
const accepted = (op: unknown): Reply => ({
  status: 202,
  body: { type: 'async', status: 'success', status_code: 202, operation: `/ams/1.0/operations/${(op as { id: string }).id}`, metadata: op },
});

const operation = (status: string, err = '', instance = 'i1') => ({
  id: 'op1',
  description: 'launch instance',
  status,
  resources: { instances: [`/ams/1.0/instances/${instance}`] },
  err,
  created_at: '2025-01-02T03:04:05.678Z',
  updated_at: '2025-01-02T03:04:05.678Z',
});

const instance = (status: string, extra: Record<string, unknown> = {}) => ({
  id: 'i1',
  app: 'test-pattern',
  app_version: 1,
  node: 'node-1',
  status,
  status_message: '',
  screen: { width: 1280, height: 720, fps: 30, density: 240 },
  resources: { cpus: 1, memory: 512 * 2 ** 20 },
  enable_streaming: false,
  session_id: null,
  user_data: null,
  created_at: '2025-01-02T03:04:05.678Z',
  updated_at: '2025-01-02T03:04:05.678Z',
  ...extra,
});

interface Run {
  out: string;
  err: string;
  code: number;
}

async function cli(...args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const outSpy = jest.spyOn(terminal, 'out').mockImplementation((line) => void out.push(line));
  const errSpy = jest.spyOn(terminal, 'err').mockImplementation((line) => void err.push(line));
  process.exitCode = undefined;
  const app = await CommandFactory.createWithoutRunning(TestCliModule, {
    logger: false,
    errorHandler: (e) => {
      throw e;
    },
  });
  try {
    await app.get(CommandRunnerService).run(['node', 'streamstack', ...args]);
  } finally {
    await app.close();
    outSpy.mockRestore();
    errSpy.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { out: out.join('\n'), err: err.join('\n'), code };
}

const ENV_KEYS = ['STREAMSTACK_URL', 'STREAMSTACK_TOKEN', 'STREAMSTACK_ADMIN_TOKEN'] as const;

describe('streamstack remote verbs', () => {
  let api: FakeApi;
  const savedEnv: Partial<Record<string, string>> = {};
  const savedPoll = WAIT_SETTINGS.pollMs;

  beforeAll(() => {
    WAIT_SETTINGS.pollMs = 20;
    for (const k of ENV_KEYS) savedEnv[k] = process.env[k];
  });
  afterAll(() => {
    WAIT_SETTINGS.pollMs = savedPoll;
    for (const k of ENV_KEYS) {
      if (savedEnv[k] === undefined) delete process.env[k];
      else process.env[k] = savedEnv[k];
    }
  });
  beforeEach(async () => {
    for (const k of ENV_KEYS) delete process.env[k];
    api = await new FakeApi().start();
  });
  afterEach(() => api.stop());

  describe('connection and auth', () => {
    it('sends the --token as a Bearer token to --url', async () => {
      api.on('GET /ams/1.0/nodes', ok([]));
      const run = await cli('node', 'list', '--url', api.url, '--token', 's3cret');
      expect(run).toEqual({ out: 'No nodes.', err: '', code: 0 });
      expect(api.requests).toHaveLength(1);
      expect(api.requests[0].headers.authorization).toBe('Bearer s3cret');
    });

    it('reads STREAMSTACK_URL and STREAMSTACK_TOKEN, before STREAMSTACK_ADMIN_TOKEN', async () => {
      api.on('GET /ams/1.0/nodes', ok([]));
      process.env.STREAMSTACK_URL = `${api.url}/`;
      process.env.STREAMSTACK_ADMIN_TOKEN = 'admin-token';
      await cli('node', 'list');
      process.env.STREAMSTACK_TOKEN = 'user-token';
      await cli('node', 'list');
      expect(api.requests.map((r) => [r.path, r.headers.authorization])).toEqual([
        ['/ams/1.0/nodes', 'Bearer admin-token'],
        ['/ams/1.0/nodes', 'Bearer user-token'],
      ]);
    });

    it('takes the global options before or after the subcommand', async () => {
      api.on('GET /ams/1.0/applications', ok([]));
      const before = await cli('app', '--url', api.url, '--token', 't1', '--json', 'list');
      const after = await cli('app', 'list', '--json', '--token', 't2', '--url', api.url);
      expect(before.out).toBe('[]');
      expect(after.out).toBe('[]');
      expect(api.requests.map((r) => r.headers.authorization)).toEqual(['Bearer t1', 'Bearer t2']);
    });

    it('says the server cannot be reached when nothing listens', async () => {
      const url = api.url;
      await api.stop();
      const run = await cli('instance', 'list', '--url', url);
      expect(run.out).toBe('');
      expect(run.err).toBe(`error: cannot reach ${url}: is the server running? (ECONNREFUSED)`);
      expect(run.code).toBe(1);
      api = await new FakeApi().start(); // for afterEach
    });

    it('prints an error envelope as "error: …" on stderr with a non-zero exit code', async () => {
      api.on('GET /ams/1.0/instances', fail(403, 'this route needs an admin account'));
      const run = await cli('instance', 'list', '--url', api.url, '--token', 'client-token');
      expect(run).toEqual({ out: '', err: 'error: this route needs an admin account', code: 1 });
    });

    it('hints at --token on 401 when none was given', async () => {
      api.on('GET /1.0/accounts', fail(401, 'missing or invalid token'));
      const run = await cli('account', 'list', '--url', api.url);
      expect(api.requests[0].headers.authorization).toBeUndefined();
      expect(run.err).toBe('error: missing or invalid token (pass --token or set STREAMSTACK_TOKEN)');
      expect(run.code).toBe(1);
    });

    it('rejects a malformed --url without sending anything', async () => {
      const run = await cli('node', 'list', '--url', 'localhost-4000');
      expect(run.err).toMatch(/^error: invalid --url "localhost-4000"/);
      expect(run.code).toBe(2);
    });
  });

  describe('output', () => {
    const nodes = [
      {
        name: 'node-1',
        address: '10.0.0.1',
        cpus: 8,
        memory: 16 * 2 ** 30,
        cpu_allocation_rate: 1,
        memory_allocation_rate: 1,
        allocated_cpus: 2,
        allocated_memory: 512 * 2 ** 20,
        instances: 2,
        status: 'online',
        unschedulable: false,
        last_seen: '2025-01-02T03:04:05.678Z',
      },
      {
        name: 'a-much-longer-node-name',
        address: '10.0.0.2',
        cpus: 4,
        memory: 8 * 2 ** 30,
        cpu_allocation_rate: 2,
        memory_allocation_rate: 1.5,
        allocated_cpus: 0,
        allocated_memory: 0,
        instances: 0,
        status: 'draining',
        unschedulable: true,
        last_seen: null,
      },
    ];

    it('prints nodes as an aligned table with memory in binary units', async () => {
      api.on('GET /ams/1.0/nodes', ok(nodes, 200, { total_size: 2 }));
      const run = await cli('node', 'list', '--url', api.url);
      expect(run.code).toBe(0);
      const lines = run.out.split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(/^NAME +ADDRESS +STATUS +CPUS +MEMORY +INSTANCES +LAST SEEN$/);
      expect(lines[1]).toMatch(/^node-1 +10\.0\.0\.1 +online +2\/8 +512 MiB\/16 GiB +2 +2025-01-02T03:04:05Z$/);
      expect(lines[2]).toMatch(/^a-much-longer-node-name +10\.0\.0\.2 +draining +0\/8 +0 B\/12 GiB +0 +-$/);
      // Every row starts each column where its header does.
      const col = lines[0].indexOf('ADDRESS');
      expect(lines.map((l) => l.indexOf('10.0.0.') === col || l.startsWith('NAME'))).toEqual([true, true, true]);
      expect(lines[1].indexOf('online')).toBe(lines[0].indexOf('STATUS'));
    });

    it('prints the raw metadata with --json', async () => {
      const list = [instance('running'), instance('stopped', { id: 'i2' })];
      api.on('GET /ams/1.0/instances', ok(list, 200, { total_size: 2 }));
      const run = await cli('instance', 'list', '--url', api.url, '--json');
      expect(run.code).toBe(0);
      expect(JSON.parse(run.out)).toEqual(list);
    });

    it('lists instances as a table', async () => {
      api.on('GET /ams/1.0/instances', ok([instance('running', { enable_streaming: true })]));
      const run = await cli('instance', 'ls', '--url', api.url);
      const [header, row] = run.out.split('\n');
      expect(header).toMatch(/^ID +APP +VERSION +NODE +STATUS +SCREEN +STREAMING +CREATED$/);
      expect(row).toMatch(/^i1 +test-pattern +1 +node-1 +running +1280x720@30 +yes +2025-01-02T03:04:05Z$/);
    });

    it('shows an application with its versions', async () => {
      const app = { name: 'demo', kind: 'x11', latest_version: 2, published_version: 1, versions: 2, instances: 0, created_at: 'c', updated_at: 'u' };
      const versions = [
        { version: 1, published: true, manifest: { kind: 'x11', display: { width: 1280, height: 720, fps: 30 }, resources: { cpus: 1, memory: 2 ** 30 } }, packaged: true, created_at: 'c1' },
        { version: 2, published: false, manifest: { kind: 'x11', display: { width: 1920, height: 1080, fps: 60 }, resources: { cpus: 2, memory: 1.5 * 2 ** 30 } }, packaged: false, created_at: 'c2' },
      ];
      api.on('GET /ams/1.0/applications/demo', ok(app)).on('GET /ams/1.0/applications/demo/versions', ok(versions));
      const run = await cli('app', 'show', 'demo', '--url', api.url);
      expect(run.out).toContain('published version: 1');
      expect(run.out).toMatch(/\n +1 +yes +x11 +1280x720@30 +1 +1 GiB +yes +c1\n +2 +no +x11 +1920x1080@60 +2 +1.5 GiB +no +c2$/);
      const json = await cli('app', 'show', 'demo', '--url', api.url, '--json');
      expect(JSON.parse(json.out)).toEqual({ application: app, versions });
    });

    it('prints a new account token once, with a warning', async () => {
      api.on('POST /1.0/accounts', ok({ id: 'a1', name: 'ci', role: 'client', created_at: 'now', token: 'tok-123' }, 201));
      const run = await cli('account', 'create', 'ci', '--url', api.url);
      expect(JSON.parse(api.requests[0].body.toString())).toEqual({ name: 'ci', role: 'client' });
      expect(run.out).toMatch(/^token: +tok-123$/m);
      expect(run.out).toMatch(/shown only this once/);
      await cli('account', 'create', 'root', '--role', 'admin', '--url', api.url);
      expect(JSON.parse(api.requests[1].body.toString())).toEqual({ name: 'root', role: 'admin' });
    });

    it('refuses an unknown --role before calling the server', async () => {
      const run = await cli('account', 'create', 'x', '--role', 'owner', '--url', api.url);
      expect(run.err).toBe('error: --role must be admin or client, not "owner"');
      expect(run.code).toBe(2);
      expect(api.requests).toHaveLength(0);
    });

    it('revokes an account by name, escaped in the path', async () => {
      api.on('DELETE /1.0/accounts/ci%20bot', ok(null));
      const run = await cli('account', 'revoke', 'ci bot', '--url', api.url);
      expect(run).toEqual({ out: 'Account ci bot revoked.', err: '', code: 0 });
    });

    it('prints instance logs as they are', async () => {
      api.on('GET /ams/1.0/instances/i1/logs', ok('line one\nline two\n'));
      const run = await cli('instance', 'logs', 'i1', '--url', api.url);
      expect(run.out).toBe('line one\nline two');
    });
  });

  describe('applications', () => {
    let dir: string;
    const created = { name: 'demo', kind: 'x11', latest_version: 1, published_version: null, versions: 1, instances: 0, created_at: 'c', updated_at: 'u' };
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'streamstack-cli-'));
      api.on('POST /ams/1.0/applications', ok(created, 201)).on('PATCH /ams/1.0/applications/demo', ok({ ...created, latest_version: 2 }));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it.each([
      ['demo.tar.gz', 'application/gzip'],
      ['demo.tgz', 'application/gzip'],
      ['demo.zip', 'application/zip'],
    ])('uploads %s as the raw body (%s)', async (file, contentType) => {
      const bytes = randomBytes(70_000);
      writeFileSync(join(dir, file), bytes);
      const run = await cli('app', 'create', join(dir, file), '--url', api.url);
      expect(run.code).toBe(0);
      expect(run.out).toContain('Application demo created: version 1 (x11).');
      expect(run.out).toContain('streamstack app publish demo 1');
      const [req] = api.requests;
      expect(req.headers['content-type']).toBe(contentType);
      expect(req.body.equals(bytes)).toBe(true);
    });

    it('sends a YAML manifest as JSON', async () => {
      writeFileSync(join(dir, 'manifest.yaml'), 'name: demo\nkind: x11\ncommand: ./run.sh\ndisplay:\n  width: 1280\n  height: 720\n  fps: 30\n');
      await cli('app', 'create', join(dir, 'manifest.yaml'), '--url', api.url);
      expect(api.requests[0].headers['content-type']).toBe('application/json');
      expect(JSON.parse(api.requests[0].body.toString())).toEqual({ name: 'demo', kind: 'x11', command: './run.sh', display: { width: 1280, height: 720, fps: 30 } });
    });

    it('adds a version from a JSON manifest with update', async () => {
      writeFileSync(join(dir, 'm.json'), JSON.stringify({ name: 'demo', kind: 'test-pattern' }));
      const run = await cli('app', 'update', 'demo', join(dir, 'm.json'), '--url', api.url);
      expect(api.requests[0].method).toBe('PATCH');
      expect(JSON.parse(api.requests[0].body.toString())).toEqual({ name: 'demo', kind: 'test-pattern' });
      expect(run.out).toContain('version 2');
    });

    it('uploads a sample as a package of its folder (--sample), and names the samples when asked for one that is not', async () => {
      const run = await cli('app', 'create', '--sample', 'draw', '--url', api.url);
      expect(run.code).toBe(0);
      const [req] = api.requests;
      expect(req.headers['content-type']).toBe('application/gzip');
      const files: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const parser = new Parser({ onReadEntry: (e) => (files.push(e.path), e.resume()) });
        parser.on('end', resolve).on('error', reject);
        parser.end(req.body);
      });
      expect(files.sort()).toEqual(['draw.js', 'manifest.yaml']);
      const unknown = await cli('app', 'create', '--sample', 'chess', '--url', api.url);
      expect(unknown.err).toBe('error: no sample named "chess": the samples are draw, echo, terminal');
      const both = await cli('app', 'create', 'm.json', '--sample', 'draw', '--url', api.url);
      expect(both.err).toMatch(/give a manifest or package file, or --sample <name> \(not both\)/);
      expect(api.requests).toHaveLength(1);
    });

    it('reports a missing file or an unknown extension without calling the server', async () => {
      const missing = await cli('app', 'create', join(dir, 'nope.json'), '--url', api.url);
      expect(missing.err).toBe(`error: cannot read ${join(dir, 'nope.json')}: no such file`);
      expect(missing.code).toBe(1);
      const odd = await cli('app', 'create', 'manifest.txt', '--url', api.url);
      expect(odd.err).toMatch(/^error: manifest\.txt: expected a manifest \(\.json, \.yaml\) or a package/);
      expect(api.requests).toHaveLength(0);
    });

    it('publishes and unpublishes a version', async () => {
      api.on('PATCH /ams/1.0/applications/demo/3', (r) => ok({ version: 3, published: JSON.parse(r.body.toString()).published }));
      const pub = await cli('app', 'publish', 'demo', '3', '--url', api.url);
      const unpub = await cli('app', 'publish', 'demo', '3', '--unpublish', '--url', api.url);
      expect(api.requests.map((r) => JSON.parse(r.body.toString()))).toEqual([{ published: true }, { published: false }]);
      expect(pub.out).toBe('Application demo version 3 published.');
      expect(unpub.out).toBe('Application demo version 3 unpublished.');
    });
  });

  describe('long operations', () => {
    /** The instance advances one status per GET, the operation ends on the second wait. */
    function launchScenario(final: 'success' | 'failure', err = '') {
      const statuses = final === 'success' ? ['created', 'prepared', 'started', 'running'] : ['created', 'prepared', 'error'];
      let gets = 0;
      let waits = 0;
      api
        .on('POST /ams/1.0/instances', accepted(operation('pending')))
        .on('GET /ams/1.0/instances/i1', () =>
          ok(instance(statuses[Math.min(gets++, statuses.length - 1)], final === 'failure' ? { status_message: err } : {})),
        )
        .on('GET /ams/1.0/operations/op1/wait', () => ({ ...ok(operation(++waits < 2 ? 'running' : final, waits < 2 ? '' : err)), delayMs: 150 }));
    }

    it('launch prints the id, follows the operation through each status and ends with success', async () => {
      launchScenario('success');
      const run = await cli('instance', 'launch', 'test-pattern', '--url', api.url, '--token', 't');
      expect(run.err).toBe('');
      expect(run.code).toBe(0);
      expect(run.out.split('\n')).toEqual([
        'Launching instance i1 of test-pattern...',
        '  created',
        '  created → prepared',
        '  prepared → started',
        '  started → running',
        'Instance i1 is running.',
      ]);
      expect(JSON.parse(api.calls('POST /ams/1.0/instances')[0].body.toString())).toEqual({ app: 'test-pattern' });
      const waits = api.calls('GET /ams/1.0/operations/op1/wait');
      expect(waits).toHaveLength(2);
      expect(waits.every((w) => w.query.get('timeout') === '5' && w.headers.authorization === 'Bearer t')).toBe(true);
    });

    it("launch ends with the operation's err on stderr and exit code 1 when it fails", async () => {
      launchScenario('failure', 'the streamer exited: no display');
      const run = await cli('instance', 'launch', 'test-pattern', '--url', api.url);
      expect(run.out.split('\n')).toEqual([
        'Launching instance i1 of test-pattern...',
        '  created',
        '  created → prepared',
        '  prepared → error (the streamer exited: no display)',
      ]);
      expect(run.err).toBe('error: the streamer exited: no display');
      expect(run.code).toBe(1);
    });

    it('launch --json prints only the ended operation', async () => {
      launchScenario('success');
      const run = await cli('instance', 'launch', 'test-pattern', '--url', api.url, '--json');
      expect(JSON.parse(run.out)).toEqual(operation('success'));
      expect(run.code).toBe(0);
    });

    it('launch passes its options and --no-wait returns without waiting', async () => {
      api.on('POST /ams/1.0/instances', accepted(operation('pending')));
      const run = await cli(
        'instance', 'launch', 'demo', '--version', '2', '--node', 'node-7', '--screen', '1920x1080@60',
        '--streaming', '--no-start', '--no-wait', '--url', api.url,
      );
      expect(run.code).toBe(0);
      expect(api.requests).toHaveLength(1);
      expect(JSON.parse(api.requests[0].body.toString())).toEqual({
        app: 'demo',
        app_version: 2,
        node: 'node-7',
        screen: { width: 1920, height: 1080, fps: 60 },
        enable_streaming: true,
        no_start: true,
      });
      expect(run.out).toContain('Launching instance i1 of demo...');
      expect(run.out).toContain('not waiting');
    });

    it('launch refuses a malformed --screen', async () => {
      const run = await cli('instance', 'launch', 'demo', '--screen', 'big', '--url', api.url);
      expect(run.err).toBe('error: --screen must look like 1280x720 or 1280x720@30, not "big"');
      expect(run.code).toBe(2);
      expect(api.requests).toHaveLength(0);
    });

    it('stop and start send the desired status and wait', async () => {
      let state = 'running';
      api
        .on('PATCH /ams/1.0/instances/i1', (r) => {
          state = JSON.parse(r.body.toString()).desired_status;
          return accepted(operation('pending'));
        })
        .on('GET /ams/1.0/instances/i1', () => ok(instance(state === 'stopped' ? 'stopped' : 'running')))
        .on('GET /ams/1.0/operations/op1/wait', ok(operation('success')));
      const stop = await cli('instance', 'stop', 'i1', '--url', api.url);
      expect(stop.out.split('\n')).toEqual(['Stopping instance i1...', '  stopped', 'Instance i1 is stopped.']);
      const start = await cli('instance', 'start', 'i1', '--url', api.url);
      expect(start.out.split('\n')).toEqual(['Starting instance i1...', '  running', 'Instance i1 is running.']);
      expect(api.calls('PATCH /ams/1.0/instances/i1').map((r) => JSON.parse(r.body.toString()))).toEqual([
        { desired_status: 'stopped' },
        { desired_status: 'started' },
      ]);
    });

    it('delete --force sends force=true and reports the instance gone', async () => {
      let waited = false;
      api
        .on('DELETE /ams/1.0/instances/i1', accepted(operation('pending')))
        .on('GET /ams/1.0/instances/i1', () => (waited ? fail(404, 'instance i1 not found') : ok(instance('running'))))
        .on('GET /ams/1.0/operations/op1/wait', () => {
          waited = true;
          return ok(operation('success'));
        });
      const run = await cli('instance', 'delete', 'i1', '--force', '--url', api.url);
      expect(api.calls('DELETE /ams/1.0/instances/i1')[0].query.get('force')).toBe('true');
      expect(run.out.split('\n')).toEqual(['Deleting instance i1...', '  running', '  running → deleted', 'Instance i1 deleted.']);
      expect(run.code).toBe(0);
    });
    it('delete of a running instance without --force points at the flag', async () => {
      api.on('DELETE /ams/1.0/instances/i1', fail(409, 'instance i1 is running; stop it first or delete with force=true'));
      const run = await cli('instance', 'delete', 'i1', '--url', api.url);
      expect(api.requests[0].query.has('force')).toBe(false);
      expect(run.err).toBe('error: instance i1 is running; stop it first or delete with force=true (add --force)');
      expect(run.code).toBe(1);
    });
  });

  describe('ApiClient', () => {
    it('returns the metadata and sends JSON bodies', async () => {
      api.on('POST /echo', (r) => ok({ got: JSON.parse(r.body.toString()) }, 201));
      const client = new ApiClient(api.url, 'tok');
      await expect(client.request('POST', '/echo', { a: 1 })).resolves.toEqual({ got: { a: 1 } });
      expect(api.requests[0].headers['content-type']).toBe('application/json');
      expect(api.requests[0].headers.authorization).toBe('Bearer tok');
    });

    it('throws an ApiError with the status and the envelope error', async () => {
      api.on('GET /missing', fail(404, 'application demo not found'));
      const e = await new ApiClient(api.url).request('GET', '/missing').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ApiError);
      expect(e).toMatchObject({ status: 404, message: 'application demo not found' });
    });

    it('says so when the answer is not an envelope', async () => {
      api.on('GET /html', { status: 502, raw: '<html>bad gateway</html>', contentType: 'text/html' });
      await expect(new ApiClient(api.url).request('GET', '/html')).rejects.toMatchObject({
        status: 502,
        message: expect.stringContaining('is ' + api.url + ' a streamstack server?'),
      });
    });

    it('accepts an empty success body', async () => {
      api.on('DELETE /thing', { status: 204, raw: '' });
      await expect(new ApiClient(api.url).request('DELETE', '/thing')).resolves.toBeUndefined();
    });
  });
});
