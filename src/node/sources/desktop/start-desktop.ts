import { join } from 'node:path';
import { nextMessage, sendConfig, whenLoaded } from '../../supervisor/child-config';
import { nodeScript } from '../../supervisor/node-script';
import type { SupervisedProcess } from '../../supervisor/process-group';
import type { DesktopControl, SourceContext } from '../source-context';
import type { DesktopConfig, DesktopInbound, DesktopOutbound } from './desktop.messages';

const RESIZE_TIMEOUT_MS = 5000;

/**
 * Starts the desktop helper (desktop.process.ts) on `display` and sets its screen to the
 * instance's size; answers its handle once it has. A member of the instance's group: if it
 * dies, the instance fails like for any of its processes.
 */
export async function startDesktop(ctx: SourceContext, display: string): Promise<DesktopControl> {
  const script = nodeScript(__dirname, 'desktop.process');
  const proc = ctx.group.spawn({ name: 'desktop', ...script, cwd: ctx.workDir, logFile: join(ctx.workDir, 'desktop.log'), ipc: true });
  await ctx.within(whenLoaded(proc.child), 'the desktop helper did not load');
  const ready = nextMessage<DesktopOutbound>(proc.child, (m) => m.kind === 'ready', 'it was ready');
  sendConfig<DesktopConfig>(proc.child, { display, width: ctx.width, height: ctx.height });
  await ctx.within(ready, `the desktop helper did not set ${display} to ${ctx.width}x${ctx.height}`);
  return new DesktopHandle(proc);
}

class DesktopHandle implements DesktopControl {
  private nextId = 1;

  constructor(private readonly proc: SupervisedProcess) {}

  async resize(width: number, height: number): Promise<{ width: number; height: number }> {
    const id = this.nextId++;
    const answered = (m: DesktopOutbound) => (m.kind === 'resized' || m.kind === 'resize-failed') && m.id === id;
    const answer = nextMessage(this.proc.child, answered, `an answer to resize ${id}`, RESIZE_TIMEOUT_MS);
    this.post({ kind: 'resize', id, width, height });
    const m = await answer;
    if (m.kind === 'resize-failed') throw new Error(m.reason);
    if (m.kind !== 'resized') throw new Error(`unexpected answer ${m.kind}`);
    return { width: m.width, height: m.height };
  }

  setClipboard(text: string): void {
    this.post({ kind: 'clipboard', text });
  }

  onClipboard(listener: (text: string) => void): void {
    this.proc.child.on('message', (m: DesktopOutbound) => {
      if (m?.kind === 'clipboard' && typeof m.text === 'string') listener(m.text);
    });
  }

  private post(message: DesktopInbound): void {
    // A closed channel is reported as the helper's exit.
    if (this.proc.child.connected) this.proc.child.send(message, () => undefined);
  }
}
