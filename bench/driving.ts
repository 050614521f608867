/**
 * Issue 10's benchmarks, on their own (not part of `npm run bench`):
 *
 *   npx ts-node -T -r tsconfig-paths/register bench/driving.ts
 *
 * 1. Spectators: one real media process reading a 1280x720@30 test pattern (as pli.ts), a
 *    driver (node-datachannel receiver), then 1, 2 and 4 spectators beside it: the media
 *    process's CPU over BENCH_DRIVING_WINDOW ms at each step and the driver's received frame
 *    rate, against the driver alone measured before and after (the baseline, same run).
 * 2. Input to pixel in Chromium through the SDK: the page sends an input event on the control
 *    channel and times, with requestVideoFrameCallback, the first presented frame whose pixels
 *    around the spot changed. For the test pattern (a key: its frame source prints the last
 *    input; the pipeline alone) and for the `draw` sample (a click: xdotool, X, xterm, node,
 *    xterm again, then capture and encode: a real application).
 *
 * Environment: BENCH_DRIVING_WINDOW=10000, BENCH_DRIVING_SAMPLES=40, BENCH_FROM=dist|src.
 * Prints markdown rows for docs/benchmarks.md.
 */
import 'reflect-metadata';
import { readSample } from '../src/cli/remote/app.command';
import { startTestStream } from '../test/support/media-process';
import { closeAllTestClients, TestClientPeer } from '../test/support/streamer-client';
import { launchBrowser } from '../test/support/browser';
import { testPatternManifest } from '../test/support/packages';
import { fmt, quantile, sleep } from './lib';
import { cpuOver } from './procfs';
import { ADMIN_TOKEN, buildForBench, startStack } from './stack';

declare const window: any; // evaluated in the page
declare const document: any;

const WINDOW_MS = Number(process.env.BENCH_DRIVING_WINDOW ?? 10_000);
const SAMPLES = Number(process.env.BENCH_DRIVING_SAMPLES ?? 40);
const log = (s: string) => process.stderr.write(`${s}\n`);

async function spectators(): Promise<string[]> {
  const stream = await startTestStream({ width: 1280, height: 720, fps: 30, video: { encoder: 'libx264', gop: 600, minKbps: 1000, maxKbps: 3000, startKbps: 2000 } });
  const rows: string[] = [];
  try {
    let generation = 0;
    const driver = new TestClientPeer(stream.streamer, ++generation);
    await driver.connect();
    await driver.waitFor(() => driver.received.video.length > 100, 10_000, 'video');
    const measure = async () => {
      const frames = () => driver.received.video.filter((p) => p.header.marker).length;
      const before = frames();
      const t0 = performance.now();
      const [cpu] = await cpuOver([stream.streamer.pid], WINDOW_MS);
      return { cpu, fps: ((frames() - before) * 1000) / (performance.now() - t0) };
    };
    await sleep(2000);
    const base1 = await measure();
    log(`driver alone: ${fmt(base1.cpu, 1)} % CPU, ${fmt(base1.fps, 1)} fps`);
    const watching: TestClientPeer[] = [];
    const steps: Array<{ n: number; cpu: number; fps: number }> = [];
    for (const n of [1, 2, 4]) {
      while (watching.length < n) {
        const s = new TestClientPeer(stream.streamer, 1000 + watching.length, { spectator: true });
        await s.connect();
        await s.waitFor(() => s.received.video.length > 30, 10_000, 'spectator video');
        watching.push(s);
      }
      await sleep(1000);
      const m = await measure();
      log(`${n} spectator(s): ${fmt(m.cpu, 1)} % CPU, ${fmt(m.fps, 1)} fps`);
      steps.push({ n, ...m });
    }
    for (const s of watching) s.close();
    await sleep(2000);
    const base2 = await measure();
    log(`driver alone again: ${fmt(base2.cpu, 1)} % CPU, ${fmt(base2.fps, 1)} fps`);
    const base = (base1.cpu + base2.cpu) / 2;
    rows.push(`| media process CPU, driver alone (before / after the spectators) | | ${fmt(base1.cpu, 1)} / ${fmt(base2.cpu, 1)} % of a core, driver ${fmt(base1.fps, 1)} / ${fmt(base2.fps, 1)} fps | |`);
    for (const s of steps) {
      rows.push(
        `| with ${s.n} spectator${s.n > 1 ? 's' : ''}: media process CPU (× driver alone), per added spectator; the driver's frame rate | | ${fmt(s.cpu, 1)} % (× ${fmt(s.cpu / base, 2)}), +${fmt((s.cpu - base) / s.n, 1)} % each; ${fmt(s.fps, 1)} fps | |`,
      );
    }
    driver.close();
  } finally {
    closeAllTestClients();
    await stream.stop();
  }
  return rows;
}

async function inputToPixel(): Promise<string[]> {
  const from = process.env.BENCH_FROM === 'src' ? 'src' : 'dist';
  if (from === 'dist') buildForBench(log);
  const stack = await startStack(from);
  const chromium = await launchBrowser();
  const rows: string[] = [];
  try {
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
    await fetch(`${stack.url}/ams/1.0/applications`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(testPatternManifest('pattern', { display: { width: 1280, height: 720, fps: 30 } })) });
    const draw = await readSample('draw');
    await fetch(`${stack.url}/ams/1.0/applications`, { method: 'POST', headers: { ...headers, 'content-type': draw.contentType! }, body: draw.body as Buffer });

    for (const [app, what] of [['pattern', 'key'], ['draw', 'click']] as const) {
      const page = await chromium.browser.newPage({ viewport: { width: 1280, height: 720 } });
      await page.goto(stack.url);
      await page.addScriptTag({ url: '/sdk/streamstack.js' });
      await page.evaluate(async ([token, name]) => {
        const element = document.createElement('div');
        element.style.cssText = 'width: 1280px; height: 720px';
        document.body.replaceChildren(element);
        window.sdk = new window.Streamstack.StreamstackClient({ token, element, speaker: false, input: { mouse: false, keyboard: false, touch: false, gamepad: false } });
        await window.sdk.connect({ app: name, screen: { width: 1280, height: 720, fps: 30 } });
      }, [ADMIN_TOKEN, app]);
      await sleep(app === 'draw' ? 3000 : 1000);
      const ms: number[] = [];
      let missed = 0;
      for (let i = 0; i < SAMPLES; i++) {
        const result: number | null = await page.evaluate(
          async ([kind, i]) => {
            const v = window.sdk.video;
            // Where the input shows: the test pattern's input lines (the lower text band), or the clicked cell.
            const spot = kind === 'key' ? { x: 0, y: Math.round(v.videoHeight * 0.55), w: v.videoWidth, h: Math.round(v.videoHeight * 0.3) } : { x: 100 + ((i * 97) % 1000), y: 150 + ((i * 53) % 450), w: 24, h: 24 };
            const canvas = document.createElement('canvas');
            [canvas.width, canvas.height] = [spot.w, spot.h];
            const g = canvas.getContext('2d', { willReadFrequently: true });
            const grab = () => {
              g.drawImage(v, spot.x, spot.y, spot.w, spot.h, 0, 0, spot.w, spot.h);
              return g.getImageData(0, 0, spot.w, spot.h).data;
            };
            const before = grab();
            const differs = (a: Uint8ClampedArray, b: Uint8ClampedArray) => {
              let d = 0;
              for (let k = 0; k < a.length; k += 4) d += Math.abs(a[k] - b[k]) + Math.abs(a[k + 1] - b[k + 1]) + Math.abs(a[k + 2] - b[k + 2]);
              return d / (a.length / 4) > 6;
            };
            return new Promise<number | null>((resolve) => {
              const t0 = performance.now();
              const timeout = setTimeout(() => resolve(null), 3000);
              const onFrame = (_now: number, meta: { presentationTime: number }) => {
                if (differs(before, grab())) {
                  clearTimeout(timeout);
                  resolve(meta.presentationTime - t0);
                } else v.requestVideoFrameCallback(onFrame);
              };
              v.requestVideoFrameCallback(onFrame);
              if (kind === 'key') {
                // The SDK's codes for A..Z: a different letter each time.
                const code = 4 + (i % 26);
                window.sdk.sendControl('input::key', { code, pressed: true });
                window.sdk.sendControl('input::key', { code, pressed: false });
              } else {
                window.sdk.sendControl('input::mouse-move', { x: spot.x + 12, y: spot.y + 12, rx: 0, ry: 0 });
                window.sdk.sendControl('input::mouse-button', { button: 1, pressed: true });
                window.sdk.sendControl('input::mouse-button', { button: 1, pressed: false });
              }
            });
          },
          [what, i] as const,
        );
        if (result === null) missed++;
        else ms.push(result);
        await sleep(150 + Math.random() * 100);
      }
      log(`${app} (${what}): p50 ${fmt(quantile(ms, 0.5), 1)} ms, p95 ${fmt(quantile(ms, 0.95), 1)} ms, ${missed} missed`);
      const label = app === 'pattern' ? 'a key on the control channel → the test pattern prints it (the pipeline alone)' : 'a click on the control channel → the `draw` sample paints the cell (xdotool, X, xterm, node)';
      rows.push(`| input to pixel, ${label}, decoded and presented in Chromium, p50 / p95 (${ms.length} samples, ${missed} without a change in 3 s) | | ${fmt(quantile(ms, 0.5), 1)} / ${fmt(quantile(ms, 0.95), 1)} ms | |`);
      await page.evaluate(() => window.sdk.end()).catch(() => undefined);
      await page.close();
    }
  } finally {
    await chromium.close();
    await stack.close();
  }
  return rows;
}

async function main(): Promise<void> {
  const rows = [...(await spectators()), ...(await inputToPixel())];
  process.stdout.write(`| metric | target | result | met |\n|---|---|---|---|\n${rows.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (e) => {
    log(`failed: ${(e as Error).stack ?? e}`);
    process.exit(1);
  },
);
