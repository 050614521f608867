import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ADMIN_TOKEN, eventually, RunningApp, startApp } from './support/app';
import { client } from './support/http';
import { testPatternManifest } from './support/packages';

/** `streamstack loadtest`: the real CLI binary with headless viewers against the stack running here. */
const BIN = join(__dirname, '..', 'bin', 'streamstack');
const run = promisify(execFile);

async function loadtest(stack: RunningApp, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(BIN, ['loadtest', ...args, '--url', stack.url, '--token', ADMIN_TOKEN], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('streamstack loadtest', () => {
  let stack: RunningApp;
  let admin: ReturnType<typeof client>;

  beforeAll(async () => {
    stack = await startApp();
    admin = client(stack.url, ADMIN_TOKEN);
    await eventually(async () => (await admin('GET', '/1.0/status')).status === 200);
    await admin('POST', '/ams/1.0/applications', { body: testPatternManifest('pattern', { display: { width: 800, height: 600, fps: 15 } }) });
  });
  afterAll(() => stack?.close());

  it('streams to N viewers and reports what each received, then ends their sessions', async () => {
    const { code, stdout, stderr } = await loadtest(stack, ['pattern', '--viewers', '2', '--rate', '4', '--duration', '3', '--screen', '800x600@15', '--json']);
    expect(stderr).toMatch(/watching 3\/3 s \| 2 streaming/);
    expect(code).toBe(0);
    const { summary, viewers } = JSON.parse(stdout);
    expect(summary).toMatchObject({ app: 'pattern', viewers: 2, streaming: 2, failed: 0 });
    for (const v of viewers) {
      expect(v.error).toBeNull();
      expect(v.ttff_ms).toBeGreaterThan(0);
      // A 15 fps test pattern: every frame arrives (marker bits counted), nothing lost on loopback.
      expect(v.fps).toBeGreaterThan(10);
      expect(v.fps).toBeLessThan(17);
      expect(v.video_kbps).toBeGreaterThan(50);
      expect(v.audio_kbps).toBeGreaterThan(10);
      expect(v.loss_percent).toBeLessThan(2);
    }
    // Each viewer's session ends with it.
    await eventually(async () => {
      const sessions = (await admin('GET', '/1.0/sessions')).body.metadata as Array<{ id: string; status: string }>;
      return viewers.every((v: { session: string }) => ['terminating', 'terminated'].includes(sessions.find((s) => s.id === v.session)?.status ?? 'terminated'));
    });
  });

  it('prints a table and a summary for a person', async () => {
    const { code, stdout } = await loadtest(stack, ['pattern', '--duration', '2', '--screen', '800x600@15']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^VIEWER +SESSION +TTFF MS +FPS +VIDEO KB\/S +AUDIO KB\/S +LOSS % +JITTER MS +ERROR$/m);
    expect(stdout).toMatch(/^viewers: +1 \(1 streamed, 0 failed\)$/m);
    expect(stdout).toMatch(/^time to first frame: p50 \d+ ms/m);
  });

  it.each([
    [['--viewers', '0'], /--viewers must be a positive whole number/],
    [['--viewers', 'many'], /--viewers must be a positive whole number/],
    [['--viewers', '5000'], /--viewers must be at most 1000/],
    [['--rate', '-1'], /--rate must be a positive number/],
    [['--duration', 'x'], /--duration must be a positive number/],
    [['--screen', 'big'], /--screen must look like 1280x720/],
  ])('refuses %j as a usage error, starting nothing', async (args, message) => {
    const { code, stderr } = await loadtest(stack, ['pattern', ...args]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('reports an application that does not exist as every viewer failing, with the reason, exit code 1', async () => {
    const { code, stdout } = await loadtest(stack, ['nope', '--viewers', '2', '--json']);
    expect(code).toBe(1);
    const { summary, viewers } = JSON.parse(stdout);
    expect(summary).toMatchObject({ streaming: 0, failed: 2 });
    expect(viewers[0].error).toMatch(/application "nope" not found/);
  });
});
