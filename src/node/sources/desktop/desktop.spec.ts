/**
 * The desktop helper against a real Xvfb: RandR resizes and the clipboard both ways (xclip
 * plays the application).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { findOnPath } from '../../supervisor/executables';
import { readDisplayNumber } from '../x11';
import { CLIPBOARD_MAX_BYTES } from '../../../../libs/protocol/src/clipboard';
import { Desktop } from './desktop';
import { waitUntil } from '../../../../test/support/wait';

jest.setTimeout(30_000);
const run = promisify(execFile);
const tools = ['Xvfb', 'xclip', 'xdpyinfo'].every((t) => findOnPath(t));

(tools ? describe : describe.skip)('the desktop helper (RandR and the clipboard on Xvfb)', () => {
  let xvfb: ChildProcess;
  let display: string;
  let desktop: Desktop;
  const copied: string[] = [];
  const logged: string[] = [];
  const env = () => ({ PATH: process.env.PATH, DISPLAY: display });
  const dimensions = async () => /dimensions:\s+(\d+x\d+)/.exec((await run('xdpyinfo', [], { env: env() })).stdout)?.[1];
  /** An application copying `text`: xclip owns the clipboard until someone else takes it. */
  const appCopies = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const xclip = spawn('xclip', ['-selection', 'clipboard', '-in'], { env: env(), stdio: ['pipe', 'ignore', 'ignore'] });
      xclip.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`xclip ${code}`))));
      xclip.stdin.end(text);
    });

  beforeAll(async () => {
    xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '3840x2160x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
    display = `:${await readDisplayNumber(xvfb.stdio[3] as NodeJS.ReadableStream as import('node:stream').Readable)}`;
    desktop = await Desktop.open(display, { clipboard: (text) => copied.push(text), log: (_level, message) => logged.push(message) });
  });
  afterAll(() => {
    desktop?.close();
    xvfb?.kill('SIGKILL');
  });

  it('resizes the display down and up again within the size Xvfb started at, and refuses beyond it', async () => {
    expect(await desktop.resize(800, 600)).toEqual({ width: 800, height: 600 });
    expect(await dimensions()).toBe('800x600');
    expect(await desktop.resize(1920, 1080)).toEqual({ width: 1920, height: 1080 });
    expect(await dimensions()).toBe('1920x1080');
    // A size asked for before: its mode exists already.
    await desktop.resize(800, 600);
    expect(await dimensions()).toBe('800x600');
    await expect(desktop.resize(5000, 600)).rejects.toThrow(/5000x600 is larger than the display allows \(3840x2160\)/);
    expect(await dimensions()).toBe('800x600');
  });

  it('sets the clipboard for the application, and hears what the application copies (not its own text back)', async () => {
    await desktop.setClipboard('from the client ✓');
    expect((await run('xclip', ['-selection', 'clipboard', '-out'], { env: env() })).stdout).toBe('from the client ✓');
    await appCopies('from the application');
    await waitUntil(() => copied.includes('from the application'), 5000);
    expect(copied).not.toContain('from the client ✓');
  });

  it('sets texts one at a time, the last one asked for winning', async () => {
    const sets = Array.from({ length: 20 }, (_, i) => desktop.setClipboard(`text ${i}`));
    await Promise.all(sets);
    expect((await run('xclip', ['-selection', 'clipboard', '-out'], { env: env() })).stdout).toBe('text 19');
  });

  it('carries a large text (INCR) and refuses one over 1 MiB', async () => {
    const large = 'x'.repeat(CLIPBOARD_MAX_BYTES - 10);
    await appCopies(large);
    await waitUntil(() => copied.includes(large), 10_000);
    await appCopies('y'.repeat(CLIPBOARD_MAX_BYTES + 1));
    await waitUntil(() => logged.some((l) => /more than 1048576 bytes: not passed on/.test(l)), 10_000);
    expect(copied[copied.length - 1]).toBe(large);
  });
});
