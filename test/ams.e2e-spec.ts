import { WebSocket } from 'ws';
import { DataSource } from 'typeorm';
import { Instance } from '../src/ams/instances/instance.entity';
import { InstancesService } from '../src/ams/instances/instances.service';
import { NodesService } from '../src/ams/nodes/nodes.service';
import { NodeRuntime } from '../src/node/runtime/node-runtime.service';
import { ADMIN_TOKEN, eventually, RunningApp, startApp } from './support/app';
import { isAlive } from './support/processes';
import { client } from './support/http';
import { buildPackage, testPatternManifest } from './support/packages';

describe('AMS API (PROTOCOL.md §6) with real instances', () => {
  let stack: RunningApp;
  let api: ReturnType<typeof client>;

  beforeAll(async () => {
    stack = await startApp();
    api = client(stack.url, ADMIN_TOKEN);
    await eventually(async () => (await api('GET', '/ams/1.0/nodes')).body.metadata?.length === 1);
  });
  afterAll(() => stack?.close());

  const waitOp = async (operationUrl: string) => (await api('GET', `${operationUrl}/wait?timeout=60`)).body.metadata;
  const launch = async (body: Record<string, unknown>) => {
    const res = await api('POST', '/ams/1.0/instances', { body });
    expect(res.status).toBe(202);
    expect(res.body.type).toBe('async');
    const instanceId = (res.body.metadata.resources.instances[0] as string).split('/').pop()!;
    return { res, instanceId, op: await waitOp(res.body.operation!) };
  };
  const instanceCount = async () => (await api('GET', '/ams/1.0/instances')).body.total_size;

  describe('applications', () => {
    it('creates from a JSON manifest with defaults, shows, lists and versions it', async () => {
      const res = await api('POST', '/ams/1.0/applications', { body: testPatternManifest('pattern', { encoder: { min_bitrate_kbps: 300, max_bitrate_kbps: 1500, degradation: 'framerate-first' } }) });
      expect(res.status).toBe(201);
      expect(res.body.metadata).toMatchObject({ name: 'pattern', kind: 'test-pattern', latest_version: 1, published_version: 1 });
      const list = await api('GET', '/ams/1.0/applications');
      expect(list.body.total_size).toBeGreaterThanOrEqual(1);
      const versions = await api('GET', '/ams/1.0/applications/pattern/versions');
      expect(versions.body.metadata[0]).toMatchObject({
        version: 1,
        published: true,
        packaged: false,
        manifest: { name: 'pattern', display: { width: 800, height: 600, fps: 15 }, resources: { cpus: 1, memory: 256e6 }, encoder: { codec: 'h264', min_bitrate_kbps: 300, max_bitrate_kbps: 1500, degradation: 'framerate-first' } },
      });
    });

    it('adds versions with PATCH and publishes/unpublishes them', async () => {
      const v2 = await api('PATCH', '/ams/1.0/applications/pattern', { body: testPatternManifest('pattern', { display: { width: 1280, height: 720, fps: 30 } }) });
      expect(v2.status).toBe(200);
      expect(v2.body.metadata.latest_version).toBe(2);
      const unpublished = await api('PATCH', '/ams/1.0/applications/pattern/2', { body: { published: false } });
      expect(unpublished.body.metadata.published).toBe(false);
      expect((await api('GET', '/ams/1.0/applications/pattern')).body.metadata.published_version).toBe(1);
      const wrongName = await api('PATCH', '/ams/1.0/applications/pattern', { body: testPatternManifest('other') });
      expect(wrongName.status).toBe(400);
      expect(wrongName.body.error).toContain('does not match');
    });

    it.each([
      ['an unknown field', { ...testPatternManifest('bad'), colour: 'red' }, 'colour'],
      ['a wrong type', { ...testPatternManifest('bad'), display: { width: 'wide', height: 600, fps: 15 } }, 'display.width'],
      ['an out-of-range screen', { ...testPatternManifest('bad'), display: { width: 5000, height: 600, fps: 15 } }, 'display.width'],
      ['an x11 app without command', { name: 'bad', kind: 'x11' }, 'command'],
      ['a bad name', testPatternManifest('Bad/Name'), 'name'],
      ['a bad memory size', { ...testPatternManifest('bad'), resources: { cpus: 1, memory: 'lots' } }, 'memory'],
    ])('refuses a manifest with %s, naming it, creating nothing', async (_what, manifest, field) => {
      const res = await api('POST', '/ams/1.0/applications', { body: manifest });
      expect(res.status).toBe(400);
      expect(res.body.error).toContain(field);
      expect((await api('GET', '/ams/1.0/applications/bad')).status).toBe(404);
    });

    it('refuses a duplicate name with 409', async () => {
      const res = await api('POST', '/ams/1.0/applications', { body: testPatternManifest('pattern') });
      expect(res.status).toBe(409);
      expect(res.body.error).toContain('exists already');
    });

    it('creates from a .tar.gz uploaded as the body and from a .zip as multipart', async () => {
      const manifest = 'name: packaged\nkind: test-pattern\ndisplay: {width: 800, height: 600, fps: 15}\n';
      const tgz = buildPackage('tar.gz', { 'manifest.yaml': manifest, 'assets/readme.txt': 'hello' });
      const res = await api('POST', '/ams/1.0/applications', { raw: tgz, contentType: 'application/gzip' });
      expect(res.status).toBe(201);
      expect(res.body.metadata).toMatchObject({ name: 'packaged', latest_version: 1 });

      const zip = buildPackage('zip', { 'manifest.yaml': manifest.replace('packaged', 'zipped') });
      const form = new FormData();
      form.append('package', new Blob([zip]), 'app.zip');
      const multipart = await fetch(`${stack.url}/ams/1.0/applications`, { method: 'POST', body: form, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(multipart.status).toBe(201);
      expect((await api('GET', '/ams/1.0/applications/zipped/versions')).body.metadata[0].packaged).toBe(true);
    });

    it.each([
      ['a ../ path', () => buildPackage('tar.gz', { 'manifest.yaml': 'name: evil\nkind: test-pattern\n', 'x.txt': 'x' }, { tarTransform: 's,^x.txt,../x.txt,' }), /\.\./],
      ['a symlink', () => buildPackage('tar.gz', { 'manifest.yaml': 'name: evil\nkind: test-pattern\n', link: { symlink: '/etc/passwd' } }), /link/],
      ['no manifest', () => buildPackage('zip', { 'readme.txt': 'x' }), /manifest\.yaml/],
      ['a broken manifest', () => buildPackage('tar.gz', { 'manifest.yaml': 'name: [unclosed\n' }), /manifest/],
      ['not an archive', () => Buffer.from('just some text'), /\.tar\.gz or \.zip/],
    ])('refuses a package with %s, creating nothing', async (_what, build, message) => {
      const res = await api('POST', '/ams/1.0/applications', { raw: build(), contentType: 'application/gzip' });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(message);
      expect((await api('GET', '/ams/1.0/applications/evil')).status).toBe(404);
    });

    it('refuses an oversized package with 413', async () => {
      const res = await api('POST', '/ams/1.0/applications', { raw: Buffer.alloc(65 * 1024 * 1024), contentType: 'application/gzip' });
      expect(res.status).toBe(413);
    });
  });

  describe('the events socket from a browser', () => {
    /** Opens it offering `protocols` (as a browser must: it cannot set Authorization); the HTTP status or the agreed protocol. */
    const openWith = (protocols: string[]) =>
      new Promise<{ status?: number; protocol?: string }>((resolve) => {
        const ws = new WebSocket(`${stack.url.replace('http', 'ws')}/ams/1.0/events`, protocols);
        ws.once('open', () => {
          resolve({ protocol: ws.protocol });
          ws.close();
        });
        ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
        ws.once('error', () => resolve({}));
      });

    it('takes the token as a bearer.<token> subprotocol and agrees on the other one, never the token', async () => {
      expect(await openWith(['streamstack.events', `bearer.${ADMIN_TOKEN}`])).toEqual({ protocol: 'streamstack.events' });
      expect(await openWith([`bearer.${ADMIN_TOKEN}`, 'streamstack.events'])).toEqual({ protocol: 'streamstack.events' });
    });

    it('refuses a wrong token (401), a client account (403), and no token at all (401)', async () => {
      const alice = (await api('POST', '/1.0/accounts', { body: { name: 'events-client', role: 'client' } })).body.metadata;
      expect(await openWith(['streamstack.events', 'bearer.wrong-token'])).toEqual({ status: 401 });
      expect(await openWith(['streamstack.events', `bearer.${alice.token}`])).toEqual({ status: 403 });
      expect(await openWith(['streamstack.events', 'bearer.'])).toEqual({ status: 401 });
      await api('DELETE', `/1.0/accounts/${alice.id}`);
    });
  });

  describe('instances', () => {
    let id: string;
    const events: { type: string; metadata: { action: string; id: string } }[] = [];
    let socket: WebSocket;

    beforeAll(async () => {
      socket = new WebSocket(`${stack.url.replace('http', 'ws')}/ams/1.0/events`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      socket.on('message', (data) => events.push(JSON.parse(data.toString())));
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    });
    afterAll(() => socket.close());

    it('launches a test-pattern instance that runs as real processes', async () => {
      const { instanceId, op } = await launch({ app: 'pattern' });
      id = instanceId;
      expect(op).toMatchObject({ status: 'success', err: '' });
      const shown = await api('GET', `/ams/1.0/instances/${id}`);
      expect(shown.body.metadata).toMatchObject({ id, app: 'pattern', app_version: 1, status: 'running', screen: { width: 800, height: 600, fps: 15 } });
      const running = stack.app.get(NodeRuntime).list().find((i) => i.instance_id === id)!;
      // Not streaming: only its source runs (a session's instance adds its media process).
      expect(running.pids.length).toBeGreaterThanOrEqual(1);
      expect(running.pids.every(isAlive)).toBe(true);
    });

    it('published every lifecycle change on the events socket', async () => {
      await eventually(async () => events.some((e) => e.metadata.id === id && e.metadata.action === 'instance-running'));
      const actions = events.filter((e) => e.type === 'lifecycle' && e.metadata.id === id).map((e) => e.metadata.action);
      expect(actions).toEqual(['instance-created', 'instance-prepared', 'instance-started', 'instance-running']);
      expect(events.some((e) => e.type === 'operation')).toBe(true);
    });

    it('reserves its resources on the node', async () => {
      const [node] = (await api('GET', '/ams/1.0/nodes')).body.metadata;
      expect(node).toMatchObject({ status: 'online', instances: 1, allocated_cpus: 1, allocated_memory: 256e6, cpu_allocation_rate: 4 });
      expect(node.cpus).toBeGreaterThan(0);
      expect(node.memory).toBeGreaterThan(2 ** 30);
    });

    it('shows its logs', async () => {
      const res = await api('GET', `/ams/1.0/instances/${id}/logs`);
      expect(res.status).toBe(200);
      expect(res.body.metadata).toMatch(/ffmpeg|frame/i);
    });

    it('refuses to delete it while running without force, and keeps it', async () => {
      const res = await api('DELETE', `/ams/1.0/instances/${id}`);
      expect(res.status).toBe(409);
      expect(res.body.error).toContain('force=true');
      expect((await api('GET', `/ams/1.0/instances/${id}`)).body.metadata.status).toBe('running');
    });

    it('refuses to delete the application it uses', async () => {
      const res = await api('DELETE', '/ams/1.0/applications/pattern');
      expect(res.status).toBe(409);
      expect((await api('GET', '/ams/1.0/applications/pattern')).status).toBe(200);
    });

    it('stops (leaving no process) and starts again', async () => {
      const pids = stack.app.get(NodeRuntime).list().find((i) => i.instance_id === id)!.pids;
      const stop = await api('PATCH', `/ams/1.0/instances/${id}`, { body: { desired_status: 'stopped' } });
      expect(stop.status).toBe(202);
      expect((await waitOp(stop.body.operation!)).status).toBe('success');
      expect((await api('GET', `/ams/1.0/instances/${id}`)).body.metadata.status).toBe('stopped');
      expect(pids.some(isAlive)).toBe(false);
      expect((await api('GET', '/ams/1.0/nodes')).body.metadata[0].instances).toBe(0);

      const start = await api('PATCH', `/ams/1.0/instances/${id}`, { body: { desired_status: 'started' } });
      expect((await waitOp(start.body.operation!)).status).toBe('success');
      expect((await api('GET', `/ams/1.0/instances/${id}`)).body.metadata.status).toBe('running');
    });

    it("corrects what it missed from the node's heartbeat: running what the node runs, error what it no longer runs", async () => {
      const instances = stack.app.get(InstancesService);
      const repo = stack.app.get(DataSource).getRepository(Instance);
      const node = (await api('GET', `/ams/1.0/instances/${id}`)).body.metadata.node as string;
      // The node's 'running' report was lost (AMS was down, say): it stays started until a heartbeat lists it.
      await repo.update({ id }, { status: 'started' });
      await instances.reconcileHeartbeat(node, [id]);
      expect((await api('GET', `/ams/1.0/instances/${id}`)).body.metadata.status).toBe('running');
      // A heartbeat without it, right after a change: the list may predate the change; nothing happens.
      await instances.reconcileHeartbeat(node, []);
      expect((await api('GET', `/ams/1.0/instances/${id}`)).body.metadata.status).toBe('running');
      // The same a minute later: the node lost it and its report of the end was lost too.
      await instances.reconcileHeartbeat(node, [], Date.now() + 60_000);
      expect((await api('GET', `/ams/1.0/instances/${id}`)).body.metadata).toMatchObject({ status: 'error', status_message: `node ${node} no longer runs it` });
      // Back as it was for the next steps (the node still runs it).
      await repo.update({ id }, { status: 'running', statusMessage: '' });
    });

    it('turns to error with the reason when one of its processes dies, reaping the rest', async () => {
      const { pids } = stack.app.get(NodeRuntime).list().find((i) => i.instance_id === id)!;
      process.kill(pids[0], 'SIGKILL');
      const failed = await eventually(async () => {
        const r = await api('GET', `/ams/1.0/instances/${id}`);
        return r.body.metadata.status === 'error' ? r.body.metadata : null;
      });
      expect(failed.status_message).toMatch(/exit|signal|SIGKILL/i);
      await eventually(async () => !pids.some(isAlive));
      expect((await api('GET', '/ams/1.0/nodes')).body.metadata[0].instances).toBe(0);
    });

    it('deletes with force and then answers 404', async () => {
      const { instanceId } = await launch({ app: 'pattern' });
      const pids = stack.app.get(NodeRuntime).list().find((i) => i.instance_id === instanceId)!.pids;
      const del = await api('DELETE', `/ams/1.0/instances/${instanceId}?force=true`);
      expect(del.status).toBe(202);
      expect((await waitOp(del.body.operation!)).status).toBe('success');
      expect((await api('GET', `/ams/1.0/instances/${instanceId}`)).status).toBe(404);
      expect(pids.some(isAlive)).toBe(false);
      await eventually(async () => events.some((e) => e.metadata.id === instanceId && e.metadata.action === 'instance-deleted'));
    });

    it('fails what ran on a node that went silent, and has it stopped there when the node is back', async () => {
      // Nothing noticed a dead node: its instances stayed running (and their sessions active) for good.
      const { instanceId } = await launch({ app: 'pattern' });
      const runtime = stack.app.get(NodeRuntime);
      const instances = stack.app.get(InstancesService);
      const pids = runtime.list().find((i) => i.instance_id === instanceId)!.pids;
      const [node] = (await api('GET', '/ams/1.0/nodes')).body.metadata;
      await instances.sweepOfflineNodes(Date.now() + 60_000); // as a minute without heartbeats
      expect((await api('GET', '/ams/1.0/nodes')).body.metadata[0]).toMatchObject({ status: 'offline', instances: 0 });
      const failed = (await api('GET', `/ams/1.0/instances/${instanceId}`)).body.metadata;
      expect(failed.status).toBe('error');
      expect(failed.status_message).toMatch(new RegExp(`^node ${node.name} is offline: no heartbeat since `));
      // The node was only out of reach: it is back, still running it. Its heartbeat has it stopped.
      await stack.app.get(NodesService).heartbeat({ name: node.name, address: node.address, cpus: node.cpus, memory: node.memory });
      await instances.reconcileHeartbeat(node.name, runtime.list().map((i) => i.instance_id));
      await eventually(async () => !pids.some(isAlive));
      expect((await api('GET', '/ams/1.0/nodes')).body.metadata[0]).toMatchObject({ status: 'online', instances: 0 });
      expect((await api('GET', `/ams/1.0/instances/${instanceId}/logs`)).status).toBe(200); // stopped, not purged
      const del = await api('DELETE', `/ams/1.0/instances/${instanceId}`);
      expect(del.status).toBe(202);
      expect((await waitOp(del.body.operation!)).status).toBe('success');
    });

    it.each([
      ['an unknown app', { app: 'nope' }, 404, /application "nope" not found/],
      ['an unpublished version', { app: 'pattern', app_version: 2 }, 400, /not published/],
      ['an unknown version', { app: 'pattern', app_version: 9 }, 404, /pattern\/9/],
      ['a screen out of range', { app: 'pattern', screen: { width: 4000, height: 600 } }, 400, /screen\.width/],
      ['a screen too small for the pattern', { app: 'pattern', screen: { width: 320, height: 240 } }, 400, /768x16/],
      ['a wrong type', { app: 'pattern', no_start: 'yes' }, 400, /no_start must be a boolean/],
      ['an unknown field', { app: 'pattern', colour: 1 }, 400, /colour should not exist/],
      ['an unknown node', { app: 'pattern', node: 'elsewhere' }, 404, /node "elsewhere"/],
    ])('refuses to launch %s, creating nothing', async (_what, body, status, message) => {
      const before = await instanceCount();
      const res = await api('POST', '/ams/1.0/instances', { body });
      expect(res.status).toBe(status);
      expect(res.body.error).toMatch(message);
      expect(await instanceCount()).toBe(before);
    });

    it('refuses to launch beyond the node\'s capacity, creating nothing', async () => {
      await api('POST', '/ams/1.0/applications', { body: testPatternManifest('huge', { resources: { cpus: 1024, memory: '1GB' } }) });
      const before = await instanceCount();
      const res = await api('POST', '/ams/1.0/instances', { body: { app: 'huge' } });
      expect(res.status).toBe(409);
      expect(res.body.error).toMatch(/no node can take this instance: .* CPUs free, 1024 needed/);
      expect(await instanceCount()).toBe(before);
    });

    it('refuses a manifest asking for more memory than the node has, creating nothing', async () => {
      await api('POST', '/ams/1.0/applications', { body: testPatternManifest('greedy', { resources: { cpus: 1, memory: '64TiB' } }) });
      const before = await instanceCount();
      const res = await api('POST', '/ams/1.0/instances', { body: { app: 'greedy' } });
      expect(res.status).toBe(409);
      expect(res.body.error).toMatch(/no node can take this instance: .* MiB of memory free, 67108864 MiB needed/);
      expect(await instanceCount()).toBe(before);
    });

    it('schedules nothing on a drained node', async () => {
      const [node] = (await api('GET', '/ams/1.0/nodes')).body.metadata;
      const drained = await api('PATCH', `/ams/1.0/nodes/${node.name}`, { body: { unschedulable: true } });
      expect(drained.body.metadata.status).toBe('draining');
      const res = await api('POST', '/ams/1.0/instances', { body: { app: 'pattern' } });
      expect(res.status).toBe(409);
      expect(res.body.error).toContain('is draining');
      await api('PATCH', `/ams/1.0/nodes/${node.name}`, { body: { unschedulable: false } });
    });

    it('answers unknown ids with 404', async () => {
      for (const path of ['/ams/1.0/instances/nope', '/ams/1.0/instances/nope/logs', '/ams/1.0/operations/nope', '/ams/1.0/nodes/nope', '/ams/1.0/applications/nope']) {
        const res = await api('GET', path);
        expect(res.status).toBe(404);
        expect(res.body.type).toBe('error');
      }
      expect((await api('PATCH', '/ams/1.0/instances/nope', { body: { desired_status: 'stopped' } })).status).toBe(404);
      expect((await api('PATCH', '/ams/1.0/applications/pattern/99', { body: { published: true } })).status).toBe(404);
    });

    it('refuses a version that is not 1 to 2^31 - 1 with 400, changing nothing', async () => {
      // One past a PostgreSQL integer reached the database: a 500 there (ParseIntPipe took any integer).
      const before = (await api('GET', '/ams/1.0/applications/pattern')).body.metadata;
      for (const version of ['2147483648', '99999999999999999999', '0', '-1', '1.5', 'x']) {
        const res = await api('PATCH', `/ams/1.0/applications/pattern/${version}`, { body: { published: false } });
        expect(res.status).toBe(400);
        expect(res.body.error).toMatch(/^version must be an integer from 1 to 2147483647/);
      }
      expect((await api('GET', '/ams/1.0/applications/pattern')).body.metadata).toEqual(before);
    });

    it('deletes an application nobody uses any more', async () => {
      for (const i of (await api('GET', '/ams/1.0/instances')).body.metadata) {
        await waitOp((await api('DELETE', `/ams/1.0/instances/${i.id}?force=true`)).body.operation!);
      }
      expect((await api('DELETE', '/ams/1.0/applications/pattern')).status).toBe(200);
      expect((await api('GET', '/ams/1.0/applications/pattern')).status).toBe(404);
      const relaunch = await api('POST', '/ams/1.0/instances', { body: { app: 'pattern' } });
      expect(relaunch.status).toBe(404);
    });
  });
});
