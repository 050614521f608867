import type { NodeInstanceStartRequest } from '@streamstack/contracts';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from '../../common/poll';
import { NodeRuntime } from '../runtime/node-runtime.service';
import { findOnPath } from '../supervisor/executables';
import * as bwrap from './bwrap';

/*
 * The walls around an x11 application (issue 9, DESIGN.md "Instance sandbox"), tried the way an
 * application would: its command probes what it can see and reach, and prints one line per
 * probe into its log, which the test reads. Real Xvfb, real bubblewrap.
 */
jest.setTimeout(60_000);

const tools = ['Xvfb', 'xdotool', 'bwrap', 'socat'].every((t) => findOnPath(t));
const SECRET = 'sandbox-test-secret-value';
const withAudio = Boolean(findOnPath('pulseaudio') && findOnPath('pactl'));

(tools ? describe : describe.skip)('the instance sandbox (bubblewrap)', () => {
  let dataDir: string;
  let appDir: string;
  let server: Server;
  let port: number;
  let connections = 0;
  const runtimes: NodeRuntime[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ss-sbx-'));
    writeFileSync(join(dataDir, 'signalling.key'), 'not for applications', { mode: 0o600 });
    // The application's package, with a link that points out of it.
    appDir = mkdtempSync(join(tmpdir(), 'ss-sbx-app-'));
    writeFileSync(join(appDir, 'run.sh'), 'echo from the package\n');
    symlinkSync(join(dataDir, 'signalling.key'), join(appDir, 'leak'));
    // A port of the host's loopback, like the server's HTTP port or NATS.
    server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
    process.env.STREAMSTACK_ADMIN_TOKEN = SECRET; // what the server has and no application may see
  });
  afterAll(async () => {
    delete process.env.STREAMSTACK_ADMIN_TOKEN;
    await Promise.all(runtimes.map((r) => r.shutdown()));
    server.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(appDir, { recursive: true, force: true });
  });

  /** The command lines of live processes, their arguments separated by NUL. */
  const commandLines = () =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .map((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8');
        } catch {
          return '';
        }
      });

  const runtime = (sandbox: bwrap.SandboxMode) => {
    const r = new NodeRuntime({ dataDir, sandbox, warmSpares: false });
    runtimes.push(r);
    return r;
  };

  const reach = (what: string, target: string) =>
    `if socat -u OPEN:/dev/null ${target},connect-timeout=2 2>/dev/null; then echo ${what}=OPEN; else echo ${what}=refused; fi`;
  const PROBE = () =>
    [
      'echo "uid=$(id -u)"',
      'echo "env=$(env | cut -d= -f1 | sort | tr "\\n" " ")"',
      'echo "pid1=$(tr "\\0" "\\n" < /proc/1/environ | grep -c STREAMSTACK)"',
      `if grep -r ${SECRET} /proc/*/environ >/dev/null 2>&1; then echo secret=FOUND; else echo secret=absent; fi`,
      `if cat ${join(dataDir, 'signalling.key')} >/dev/null 2>&1; then echo datadir=READ; else echo datadir=refused; fi`,
      `if ls ${join(dataDir, 'instances')} >/dev/null 2>&1; then echo instances=SEEN; else echo instances=hidden; fi`,
      'if cat ./leak >/dev/null 2>&1; then echo symlink=READ; else echo symlink=refused; fi',
      'if cat ./run.sh >/dev/null 2>&1; then echo package=readable; else echo package=MISSING; fi',
      'if touch ./new 2>/dev/null; then echo package=WRITABLE; else echo package=read-only; fi',
      'if touch "$HOME/file" && touch /tmp/file; then echo home=writable; else echo home=READ-ONLY; fi',
      reach('port', `TCP:127.0.0.1:${port}`),
      reach('nats', 'TCP:127.0.0.1:4222'),
      // A route out: only with `network: outbound`.
      `if awk 'NR > 1 && $2 == "00000000"' /proc/net/route | grep -q .; then echo route=default; else echo route=none; fi`,
      'echo "resolver=$(grep -s nameserver /etc/resolv.conf | tr -d "\\n")"',
      'echo "greeting=$GREETING"',
      'if [ -e /etc/shadow ]; then echo shadow=SEEN; else echo shadow=absent; fi',
      // What it must reach: its display and its sound server.
      'if xdpyinfo >/dev/null 2>&1; then echo display=ok; else echo display=FAILED; fi',
      'if pactl info >/dev/null 2>&1; then echo sound=ok; else echo sound=FAILED; fi',
      'echo probe-done',
      'exec sleep 600',
    ].join('; ');

  const start = (r: NodeRuntime, id: string, manifest: Partial<NodeInstanceStartRequest> = {}): Promise<unknown> =>
    r.start({
      instance_id: id,
      app: 'probe',
      app_version: 1,
      kind: 'x11',
      command: PROBE(),
      app_dir: appDir,
      display: { width: 320, height: 240, fps: 15 },
      encoder: { codec: 'h264', bitrate_kbps: 500, gop: 30 },
      ...manifest,
    } as NodeInstanceStartRequest);

  /** The probe's answers, once it has printed them all. */
  async function answers(id: string): Promise<Record<string, string>> {
    const file = join(dataDir, 'instances', id, 'app.log');
    const end = Date.now() + 15_000;
    for (;;) {
      const text = (() => {
        try {
          return readFileSync(file, 'utf8');
        } catch {
          return '';
        }
      })();
      if (/^probe-done$/m.test(text)) {
        const out: Record<string, string> = {};
        for (const m of text.matchAll(/^(\w+)=(.*)$/gm)) out[m[1]] = out[m[1]] ? `${out[m[1]]}|${m[2]}` : m[2];
        return out;
      }
      if (Date.now() > end) throw new Error(`the probe did not finish: ${text}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('runs the application as uid 1000 with only its allow-listed environment, and walls off the data directory, the host ports, other files and secrets', async () => {
    const r = runtime('on');
    await start(r, 'walled');
    const a = await answers('walled');
    expect(a).toMatchObject({
      uid: '1000',
      pid1: '0',
      secret: 'absent',
      datadir: 'refused',
      instances: 'hidden',
      symlink: 'refused',
      package: 'readable|read-only',
      home: 'writable',
      port: 'refused',
      nats: 'refused',
      route: 'none',
      shadow: 'absent',
      display: 'ok',
      ...(withAudio ? { sound: 'ok' } : {}),
    });
    const allowed = ['DISPLAY', 'HOME', 'LANG', 'OLDPWD', 'PATH', 'PULSE_SERVER', 'PULSE_SOURCE', 'PWD', 'SHLVL', 'STREAMSTACK_DATA_CHANNELS', '_'];
    expect(a.env.trim().split(' ').filter((k) => !allowed.includes(k))).toEqual([]);
    expect(connections).toBe(0);
    await r.stop('walled');
  });

  (findOnPath('pasta') ? it : it.skip)('with network: outbound routes out through pasta, resolves through it, and still cannot reach the host\'s loopback; the manifest\'s env is there', async () => {
    const r = runtime('on');
    await start(r, 'outbound', { network: 'outbound', env: { GREETING: 'hello' } });
    const a = await answers('outbound');
    expect(a).toMatchObject({ uid: '1000', route: 'default', resolver: 'nameserver 169.254.1.1', port: 'refused', nats: 'refused', datadir: 'refused', secret: 'absent', greeting: 'hello', display: 'ok' });
    expect(connections).toBe(0);
    // pasta lives as long as the instance, and goes with it.
    const pastas = () => commandLines().filter((c) => c.startsWith(`${findOnPath('pasta')}\0`)).length;
    expect(pastas()).toBe(1);
    await r.stop('outbound');
    await pollUntil(() => pastas() === 0, 10_000, 'pasta to stop');
  });

  it('with STREAMSTACK_INSTANCE_SANDBOX=off still scrubs the environment, and warns at every start', async () => {
    const r = runtime('off');
    const warn = jest.spyOn((r as unknown as { logger: { warn(m: string): void } }).logger, 'warn');
    await start(r, 'unwalled');
    const a = await answers('unwalled');
    expect(a.env.replace('STREAMSTACK_DATA_CHANNELS', '')).not.toContain('STREAMSTACK');
    // Unwalled, it can read what the server can: the documented price of turning it off.
    expect(a.datadir).toBe('READ');
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('WITHOUT a sandbox (STREAMSTACK_INSTANCE_SANDBOX=off)'));
    await r.stop('unwalled');
  });

  it('refuses x11 instances, naming the way out, where no sandbox can be made', async () => {
    const problem = jest.spyOn(bwrap, 'sandboxProblem').mockResolvedValue('bubblewrap cannot create namespaces here (no user namespaces)');
    try {
      await expect(start(runtime('on'), 'refused')).rejects.toThrow(/no user namespaces.*STREAMSTACK_INSTANCE_SANDBOX=off/);
    } finally {
      problem.mockRestore();
    }
  });

  describe('limits from the manifest (cgroups)', () => {
    /** Pids of live processes in instance `id`'s cgroup, by what the kernel says of each. */
    const inCgroup = (id: string) =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return readFileSync(`/proc/${p}/cgroup`, 'utf8').includes(`streamstack-${id}`);
          } catch {
            return false;
          }
        });
    const limited = (r: NodeRuntime, id: string, command: string, memory: number) =>
      r.start({
        instance_id: id,
        app: 'limits',
        app_version: 1,
        kind: 'x11',
        command,
        display: { width: 320, height: 240, fps: 15 },
        encoder: { codec: 'h264', bitrate_kbps: 500, gop: 30 },
        resources: { cpus: 1, memory },
      } as NodeInstanceStartRequest);

    it('kills an application that allocates without bound at its memory limit, and the instance says so', async () => {
      const r = runtime('on');
      const errors: string[] = [];
      r.onStatus((ev) => ev.status === 'error' && errors.push(ev.reason ?? ''));
      // tail keeps the last "line" of /dev/zero, which never ends: memory grows until stopped.
      const started = await limited(r, 'hog', 'exec tail /dev/zero', 64e6).then(
        () => null,
        (e: Error) => e.message,
      );
      const reason = started ?? (await pollUntil(() => errors[0], 20_000, 'the instance to fail'));
      expect(reason).toMatch(/^app \[sh\] \(pid \d+\) was killed at its memory limit \(64 MB, the manifest's resources.memory\)/);
      expect(readFileSync(join(dataDir, 'instances', 'hog', 'app.log'), 'utf8')).toContain('limits (cgroup): memory 64 MB, 1 CPU, 512 processes');
    });

    it('contains a fork bomb at its process cap; the node starts other instances meanwhile, and stopping it leaves nothing', async () => {
      const r = runtime('on');
      await limited(r, 'bomb', 'b() { b | b & }; b; exec sleep 600', 256e6);
      // The most processes it had at once: failed forks end some of them, so it ebbs and flows.
      let count = 0;
      for (const end = Date.now() + 3000; Date.now() < end; await new Promise((res) => setTimeout(res, 50))) count = Math.max(count, inCgroup('bomb').length);
      expect(count).toBeGreaterThan(10);
      expect(count).toBeLessThanOrEqual(512);
      // The node is fine: another instance starts and runs beside it.
      await start(r, 'beside');
      expect((await answers('beside')).uid).toBe('1000');
      await r.stop('bomb');
      await pollUntil(() => inCgroup('bomb').length === 0, 10_000, 'the bomb to be gone');
      // …and so is its cgroup, in every hierarchy.
      const cgroupDirs = () => execFileSync('find', ['/sys/fs/cgroup', '-maxdepth', '4', '-name', 'streamstack-bomb'], { encoding: 'utf8' }).trim();
      await pollUntil(() => cgroupDirs() === '', 10_000, 'its cgroup to be removed');
      await r.stop('beside');
    });
  });
});
