import { Command, Option } from 'nest-commander';
import { parseScreen } from '../remote/instance.command';
import { formatTable, printJson, terminal } from '../remote/output';
import { Flags, RemoteCommand, RemoteContext, UsageError } from '../remote/remote-command';
import { Viewer, type ViewerResult } from './viewer';

/** A viewer below this is not keeping up with a 30 fps stream. */
export const SUSTAINED_FPS = 28;
const MAX_VIEWERS = 1000;

export interface LoadTestSummary {
  app: string;
  viewers: number;
  streaming: number;
  failed: number;
  /** POST /1.0/sessions → first keyframe, over the viewers that got one. */
  ttff_ms: { p50: number | null; p95: number | null; max: number | null };
  fps: { mean: number | null; min: number | null };
  /** Viewers that held SUSTAINED_FPS over the whole measured window. */
  at_least_28_fps: number;
  video_kbps_mean: number | null;
  loss_percent_mean: number | null;
  jitter_ms_mean: number | null;
}

const positive = (value: unknown, name: string, { integer = true } = {}) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new UsageError(`${name} must be a positive ${integer ? 'whole ' : ''}number, not ${JSON.stringify(value)}`);
  return n;
};

/**
 * `streamstack loadtest APP`: N viewers (headless WebRTC clients on node-datachannel, each with
 * its own session) ramped up at a given rate, watched for a while, then a table of what each saw
 * and a summary, like `lk load-test` plus the time to first frame.
 */
@Command({
  name: 'loadtest',
  arguments: '<app>',
  description: 'Stream an application to N headless viewers and report frame rate, bitrate, loss, jitter and time to first frame',
})
export class LoadTestCommand extends RemoteCommand {
  @Option({ flags: '--viewers <n>', description: 'viewers (sessions) to run, default 1' })
  parseViewers(value: string): string {
    return value;
  }

  @Option({ flags: '--rate <n>', description: 'viewers started per second while ramping up, default 2' })
  parseRate(value: string): string {
    return value;
  }

  @Option({ flags: '--duration <s>', description: 'seconds to watch once every viewer has started, default 30' })
  parseDuration(value: string): string {
    return value;
  }

  @Option({ flags: '--screen <WxH@fps>', description: "each session's screen (default: the gateway's, 1280x720@30)" })
  parseScreenFlag(value: string): string {
    return value;
  }

  protected async execute([app]: string[], flags: Flags, ctx: RemoteContext): Promise<void> {
    const count = flags.viewers === undefined ? 1 : positive(flags.viewers, '--viewers');
    if (count > MAX_VIEWERS) throw new UsageError(`--viewers must be at most ${MAX_VIEWERS}`);
    const rate = flags.rate === undefined ? 2 : positive(flags.rate, '--rate', { integer: false });
    const durationS = flags.duration === undefined ? 30 : positive(flags.duration, '--duration', { integer: false });
    const screen = typeof flags.screen === 'string' ? parseScreen(flags.screen) : undefined;

    const viewers = Array.from({ length: count }, (_, i) => new Viewer(i + 1, ctx.client, { app, screen }));
    const progress = new Progress(viewers, durationS);
    progress.start();
    // Ramp: viewer i starts i / rate seconds in; each runs on while the others start.
    const started = viewers.map(
      (v, i) =>
        new Promise<void>((resolve) => setTimeout(() => v.start().then(resolve, () => resolve()), (i * 1000) / rate)),
    );
    await Promise.all(started);
    // Nobody to watch (the stack refused every session, say): report at once.
    if (viewers.some((v) => v.state === 'streaming')) {
      progress.watching();
      await new Promise((r) => setTimeout(r, durationS * 1000));
    }
    progress.stop();
    const results = await Promise.all(viewers.map((v) => v.stop()));
    const summary = summarize(app, results);

    if (ctx.json) printJson({ summary, viewers: results });
    else {
      terminal.out(formatResults(results));
      terminal.out('');
      terminal.out(formatSummary(summary));
    }
    if (summary.failed > 0) process.exitCode = 1;
  }
}

const roundOrNull = (v: number | null) => (v === null ? null : Math.round(v));

export function summarize(app: string, results: ViewerResult[]): LoadTestSummary {
  const ok = results.filter((r) => r.error === null);
  const ttff = results.map((r) => r.ttff_ms).filter((v): v is number => v !== null).sort((a, b) => a - b);
  const fps = results.map((r) => r.fps).filter((v): v is number => v !== null);
  const mean = (xs: Array<number | null>) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? Number((v.reduce((a, b) => a + b, 0) / v.length).toFixed(2)) : null;
  };
  const pct = (p: number) => (ttff.length ? ttff[Math.min(ttff.length - 1, Math.floor((p / 100) * ttff.length))] : null);
  return {
    app,
    viewers: results.length,
    streaming: ok.length,
    failed: results.length - ok.length,
    ttff_ms: { p50: pct(50), p95: pct(95), max: ttff.length ? ttff[ttff.length - 1] : null },
    fps: { mean: mean(fps), min: fps.length ? Math.min(...fps) : null },
    at_least_28_fps: ok.filter((r) => (r.fps ?? 0) >= SUSTAINED_FPS).length,
    video_kbps_mean: roundOrNull(mean(results.map((r) => r.video_kbps))),
    loss_percent_mean: mean(results.map((r) => r.loss_percent)),
    jitter_ms_mean: mean(results.map((r) => r.jitter_ms)),
  };
}

function formatResults(results: ViewerResult[]): string {
  return formatTable(results, [
    { header: 'VIEWER', value: (r) => r.viewer, align: 'right' },
    { header: 'SESSION', value: (r) => r.session },
    { header: 'TTFF MS', value: (r) => r.ttff_ms, align: 'right' },
    { header: 'FPS', value: (r) => r.fps, align: 'right' },
    { header: 'VIDEO KB/S', value: (r) => r.video_kbps, align: 'right' },
    { header: 'AUDIO KB/S', value: (r) => r.audio_kbps, align: 'right' },
    { header: 'LOSS %', value: (r) => r.loss_percent, align: 'right' },
    { header: 'JITTER MS', value: (r) => r.jitter_ms, align: 'right' },
    { header: 'ERROR', value: (r) => r.error },
  ]);
}

function formatSummary(s: LoadTestSummary): string {
  const v = (x: number | null, unit = '') => (x === null ? '-' : `${x}${unit}`);
  return [
    `viewers:             ${s.viewers} (${s.streaming} streamed, ${s.failed} failed)`,
    `time to first frame: p50 ${v(s.ttff_ms.p50, ' ms')}, p95 ${v(s.ttff_ms.p95, ' ms')}, max ${v(s.ttff_ms.max, ' ms')}`,
    `frame rate:          mean ${v(s.fps.mean)}, min ${v(s.fps.min)}; ${s.at_least_28_fps}/${s.viewers} at ≥ ${SUSTAINED_FPS} fps`,
    `per viewer:          video ${v(s.video_kbps_mean, ' kb/s')}, loss ${v(s.loss_percent_mean, ' %')}, jitter ${v(s.jitter_ms_mean, ' ms')}`,
  ].join('\n');
}

/** One status line on stderr: rewritten in place on a terminal, every 5 s otherwise. */
class Progress {
  private timer?: NodeJS.Timeout;
  private watchingSince: number | null = null;
  private readonly tty = Boolean(process.stderr.isTTY);
  private lastPrinted = 0;

  constructor(
    private readonly viewers: Viewer[],
    private readonly durationS: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.print(), 250);
  }

  watching(): void {
    this.watchingSince = performance.now();
  }

  stop(): void {
    clearInterval(this.timer);
    this.print(true);
    if (this.tty) process.stderr.write('\n');
  }

  private print(force = false): void {
    const now = performance.now();
    if (!this.tty && !force && now - this.lastPrinted < 5000) return;
    this.lastPrinted = now;
    const count = (s: string) => this.viewers.filter((v) => v.state === s).length;
    const streaming = count('streaming');
    const fps = this.viewers.map((v) => v.fpsNow(now)).filter((f): f is number => f !== null);
    const meanFps = fps.length ? (fps.reduce((a, b) => a + b, 0) / fps.length).toFixed(1) : '-';
    const total = this.viewers.length;
    const started = total - count('waiting');
    const fraction = this.watchingSince === null ? started / total : Math.min(1, (now - this.watchingSince) / 1000 / this.durationS);
    const width = 20;
    const bar = '#'.repeat(Math.round(fraction * width)).padEnd(width, '.');
    const phase = this.watchingSince === null ? `ramping ${started}/${total}` : `watching ${Math.round((now - this.watchingSince) / 1000)}/${this.durationS} s`;
    const line = `[${bar}] ${phase} | ${streaming} streaming, ${count('creating') + count('signalling') + count('connecting')} connecting, ${count('failed')} failed | ${meanFps} fps`;
    process.stderr.write(this.tty ? `\r${line}\u001b[K` : `${line}\n`);
  }
}
