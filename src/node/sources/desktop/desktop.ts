/**
 * One X client of an x11 instance's display that does what needs a lasting connection: its
 * screen size (RandR: Xvfb starts at the largest screen and is set to the one asked for; the X
 * server forgets a mode when the client that made it goes, so this client stays) and the
 * clipboard (XFixes tells it when the application copies; xclip moves the text, INCR included).
 *
 * No path aliases: it runs in the desktop child process (desktop.process.ts).
 */
import { spawn } from 'node:child_process';
import * as x11 from 'x11';
import { CLIPBOARD_MAX_BYTES } from '../../../../libs/protocol/src/clipboard';

const promised = <T>(call: (cb: (err: Error | null, value: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => call((err, value) => (err ? reject(err) : resolve(value))));

export interface DesktopEvents {
  /** The application put text on the clipboard. */
  clipboard(text: string): void;
  log(level: 'debug' | 'info' | 'warn', message: string): void;
  /** The display closed its connection (Xvfb is gone). */
  closed?(): void;
}

export class Desktop {
  /** The clipboard's text as the client knows it (it set it, or heard it): never sent back to it. */
  private known: string | null = null;
  private reading: Promise<void> = Promise.resolve();
  /** One xclip at a time; of the texts that came meanwhile, only the last is set. */
  private setting: Promise<void> | null = null;
  private nextText: string | null = null;
  private size = { width: 0, height: 0 };

  private constructor(
    private readonly display: string,
    private readonly X: x11.XClient,
    private readonly root: number,
    private readonly randr: x11.RandR,
    private readonly events: DesktopEvents,
  ) {}

  static async open(display: string, events: DesktopEvents): Promise<Desktop> {
    const d = await promised<x11.Display>((cb) => x11.createClient({ display }, cb));
    const X = d.client;
    const root = d.screen[0].root;
    const randr = await promised<x11.RandR>((cb) => X.require('randr', cb));
    // Errors of requests without a reply come as events: a bad one must not take the helper down.
    X.on('error', (e) => events.log('warn', `X error: ${e.message}`));
    X.on('end', () => events.closed?.());
    const desktop = new Desktop(display, X, root, randr, events);
    await desktop.watchClipboard(await promised<x11.XFixes>((cb) => X.require('fixes', cb)));
    return desktop;
  }

  get current(): { width: number; height: number } {
    return { ...this.size };
  }

  /** Sets the screen to width x height (within what the server allows), answering the size it has now. */
  async resize(width: number, height: number): Promise<{ width: number; height: number }> {
    const range = await promised<{ maxWidth: number; maxHeight: number }>((cb) => this.randr.GetScreenSizeRange(this.root, cb));
    if (width > range.maxWidth || height > range.maxHeight) throw new Error(`${width}x${height} is larger than the display allows (${range.maxWidth}x${range.maxHeight})`);
    const res = await promised<{ config_timestamp: number; crtcs: number[]; outputs: number[]; modeinfos: x11.ModeInfo[] }>((cb) => this.randr.GetScreenResources(this.root, cb));
    const [crtc] = res.crtcs;
    const [output] = res.outputs;
    if (crtc === undefined || output === undefined) throw new Error('the display has no RandR output');
    const mode = res.modeinfos.find((m) => m.width === width && m.height === height)?.id ?? (await this.createMode(output, width, height));
    // The screen must hold the output's mode at every step: grow the screen first, shrink it last.
    const mm = (px: number) => Math.max(1, Math.round((px * 25.4) / 96));
    const current = await promised<{ width: number; height: number }>((cb) => this.X.GetGeometry(this.root, cb));
    const grow = width > current.width || height > current.height;
    if (grow) this.randr.SetScreenSize(this.root, Math.max(width, current.width), Math.max(height, current.height), mm(width), mm(height));
    const set = await promised<{ status: number }>((cb) => this.randr.SetCrtcConfig(crtc, 0, res.config_timestamp, 0, 0, mode, 1, [output], cb));
    if (set.status !== 0) throw new Error(`RandR refused the mode (status ${set.status})`);
    this.randr.SetScreenSize(this.root, width, height, mm(width), mm(height));
    const now = await promised<{ width: number; height: number }>((cb) => this.X.GetGeometry(this.root, cb));
    if (now.width !== width || now.height !== height) throw new Error(`the display is ${now.width}x${now.height} after asking for ${width}x${height}`);
    this.size = { width, height };
    return this.current;
  }

  /** Makes `text` the application's clipboard (xclip keeps serving it until the application copies). */
  setClipboard(text: string): Promise<void> {
    this.known = text;
    this.nextText = text;
    this.setting ??= (async () => {
      try {
        while (this.nextText !== null) {
          const next = this.nextText;
          this.nextText = null;
          await this.runXclipIn(next).catch((e: Error) => this.events.log('warn', `setting the clipboard: ${e.message}`));
        }
      } finally {
        this.setting = null;
      }
    })();
    return this.setting;
  }

  private runXclipIn(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const xclip = spawn('xclip', ['-selection', 'clipboard', '-in'], { env: { PATH: process.env.PATH, DISPLAY: this.display }, stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      xclip.stderr.on('data', (d: Buffer) => (err += d.toString()));
      xclip.on('error', reject);
      // xclip forks a child that owns the selection; the parent exits once it has read the text.
      xclip.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`xclip exited with code ${code}: ${err.trim().slice(0, 200)}`))));
      xclip.stdin.on('error', () => undefined);
      xclip.stdin.end(text, 'utf8');
    });
  }

  close(): void {
    this.X.terminate();
  }

  /** A mode of width x height on `output` (the output's only: the screen list shows them all). */
  private async createMode(output: number, width: number, height: number): Promise<number> {
    // Xvfb ignores timings; a plausible dot clock keeps clients that compute a refresh rate sane.
    const mode = { name: `${width}x${height}`, width, height, dot_clock: width * height * 60, h_sync_start: width, h_sync_end: width, h_total: width, v_sync_start: height, v_sync_end: height, v_total: height };
    const id = await promised<number>((cb) => this.randr.CreateMode(this.root, mode, cb));
    this.randr.AddOutputMode(output, id);
    return id;
  }

  private async watchClipboard(fixes: x11.XFixes): Promise<void> {
    const clipboard = await promised<number>((cb) => this.X.InternAtom(false, 'CLIPBOARD', cb));
    const window = this.X.AllocID();
    // An unmapped InputOnly window: something to receive the selection events on.
    this.X.CreateWindow(window, this.root, 0, 0, 1, 1, 0, 0, 2, 0, {});
    fixes.SelectSelectionInput(window, clipboard, fixes.SelectionEventMask.SetSelectionOwner);
    this.X.on('event', (ev) => {
      if (ev.type !== fixes.firstEvent || ev.selection !== clipboard || !ev.owner) return;
      // One read at a time, in order: a burst of copies ends with the last one's text.
      this.reading = this.reading.then(() => this.readClipboard());
    });
  }

  private async readClipboard(): Promise<void> {
    const text = await this.readSelection().catch((e: Error) => {
      this.events.log('warn', `reading the clipboard: ${e.message}`);
      return null;
    });
    // An owner change can come twice for one copy (xclip's fork takes the selection over).
    if (text === null || text === this.known) return;
    this.known = text;
    this.events.clipboard(text);
  }

  /** The clipboard's text, or null when it holds none (an image, say); at most CLIPBOARD_MAX_BYTES. */
  private readSelection(): Promise<string | null> {
    return new Promise((resolve, reject) => {
      const xclip = spawn('xclip', ['-selection', 'clipboard', '-out', '-target', 'UTF8_STRING'], { env: { PATH: process.env.PATH, DISPLAY: this.display }, stdio: ['ignore', 'pipe', 'ignore'] });
      const chunks: Buffer[] = [];
      let bytes = 0;
      let tooLong = false;
      const timer = setTimeout(() => xclip.kill('SIGKILL'), 5000);
      xclip.stdout.on('data', (d: Buffer) => {
        bytes += d.length;
        if (bytes > CLIPBOARD_MAX_BYTES) {
          tooLong = true;
          xclip.kill('SIGKILL');
        } else chunks.push(d);
      });
      xclip.on('error', reject);
      xclip.on('close', (code) => {
        clearTimeout(timer);
        if (tooLong) return reject(new Error(`the application copied more than ${CLIPBOARD_MAX_BYTES} bytes: not passed on`));
        resolve(code === 0 ? Buffer.concat(chunks).toString('utf8') : null);
      });
    });
  }
}
