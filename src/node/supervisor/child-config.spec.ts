import { spawn } from 'node:child_process';
import { nextMessage, whenLoaded } from './child-config';

/** A Node child that sends `messages` over IPC, then stays (`stay`) or exits with code 3. */
const child = (messages: unknown[], stay: boolean) =>
  spawn(process.execPath, ['-e', `for (const m of ${JSON.stringify(messages)}) process.send(m); ${stay ? 'setInterval(() => {}, 1000)' : 'setTimeout(() => process.exit(3), 100)'}`], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });

describe('nextMessage (the parent side of a child IPC exchange)', () => {
  it('resolves with the first message that matches, passing over the others (and non-objects)', async () => {
    const c = child(['text', 7, null, { kind: 'progress' }, { kind: 'answer', id: 1 }, { kind: 'answer', id: 2 }], true);
    try {
      await expect(nextMessage<{ kind?: string; id?: number }>(c, (m) => m.kind === 'answer' && m.id === 2, 'the answer', 5000)).resolves.toEqual({ kind: 'answer', id: 2 });
    } finally {
      c.kill();
    }
  });

  it('rejects when the child exits first, and whenLoaded says so too', async () => {
    await expect(nextMessage(child([{ kind: 'other' }], false), () => false, 'its answer')).rejects.toThrow('it exited (code 3) before its answer');
    await expect(whenLoaded(child([], false))).rejects.toThrow('it exited (code 3) before it had loaded');
  });

  it('rejects after its timeout, naming what did not come', async () => {
    const c = child([{ kind: 'loaded' }], true);
    try {
      await whenLoaded(c);
      await expect(nextMessage(c, () => false, 'an answer to resize 1', 200)).rejects.toThrow('an answer to resize 1: not within 200 ms');
      expect(c.listenerCount('message')).toBe(0);
    } finally {
      c.kill();
    }
  });
});
