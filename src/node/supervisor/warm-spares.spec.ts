import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from '../../common/poll';
import { ProcessExit, ProcessGroup, SupervisedProcess } from './process-group';
import { REPLENISH_GRACE_MS, SPARE_BOOT_DELAY_MS, WarmSpares } from './warm-spares';
import { isAlive } from '../../../test/support/processes';

jest.setTimeout(30_000);

describe('WarmSpares (real child processes)', () => {
  let dir: string;
  let spares: WarmSpares;
  let exits: { proc: SupervisedProcess; exit: ProcessExit }[];
  let group: ProcessGroup; // an instance's group, say

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ss-spares-'));
    exits = [];
    group = new ProcessGroup((proc, exit) => exits.push({ proc, exit }));
  });
  afterEach(async () => {
    await spares.stop(500);
    await group.stopAll(500);
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands over a booted process and boots its replacement; its exits are then reported to the new group', async () => {
    spares = new WarmSpares(join(dir, 'spares'), true);
    spares.start();
    const booted = await pollUntil(() => spares.waiting().length === 2 && spares.waiting(), 10_000, 'two spares');
    const spare = booted.find((s) => s.role === 'frame-source')!;

    const log = join(dir, 'frame-source.log');
    const proc = await spares.take('frame-source', group, log, dir);
    expect(proc.pid).toBe(spare.pid);
    expect(proc.name).toBe('frame-source');
    expect(proc.logFile).toBe(log);
    expect(readFileSync(log, 'utf8')).toContain(`taking frame-source (spare) (pid ${spare.pid}) as frame-source`);

    const next = await pollUntil(() => spares.waiting().find((s) => s.role === 'frame-source' && s.pid !== spare.pid), 10_000, 'a new frame-source spare');
    expect(isAlive(next.pid)).toBe(true);

    process.kill(proc.pid, 'SIGKILL');
    const reported = await pollUntil(() => exits.find((e) => e.proc === proc), 10_000, 'the exit');
    expect(reported.exit.signal).toBe('SIGKILL');
    expect(readFileSync(log, 'utf8')).toMatch(/frame-source \[node\] \(pid \d+\) was killed by SIGKILL/);
  });

  it('replenish() boots a taken spare\'s replacement after a short grace, not after the delay; a dead spare\'s waits its delay', async () => {
    spares = new WarmSpares(join(dir, 'spares'), true);
    spares.start();
    const booted = await pollUntil(() => spares.waiting().length === 2 && spares.waiting(), 10_000, 'two spares');
    const streamer = booted.find((s) => s.role === 'streamer')!;
    const frameSource = booted.find((s) => s.role === 'frame-source')!;
    await spares.take('streamer', group, join(dir, 'streamer.log'), dir);
    process.kill(frameSource.pid, 'SIGKILL');
    await pollUntil(() => !spares.waiting().some((s) => s.pid === frameSource.pid), 10_000, 'the dead spare gone');
    expect(spares.waiting()).toEqual([]); // both replacements wait for their delay (1.5 s)

    const t0 = Date.now();
    spares.replenish();
    expect(spares.waiting()).toEqual([]); // not at once: the viewer's first frame is still on its way
    const next = await pollUntil(() => spares.waiting().find((s) => s.role === 'streamer' && s.pid !== streamer.pid), 10_000, 'a new streamer spare');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(REPLENISH_GRACE_MS);
    expect(Date.now() - t0).toBeLessThan(SPARE_BOOT_DELAY_MS); // booted by replenish, not by its timer
    expect(spares.waiting().some((s) => s.role === 'frame-source')).toBe(false); // the dead one's delay still runs
    expect(isAlive(next.pid)).toBe(true);
  });

  it('replaces a spare that dies on its own, and stop() leaves no process or file behind', async () => {
    spares = new WarmSpares(join(dir, 'spares'), true);
    spares.start();
    const [first] = await pollUntil(() => spares.waiting().length === 2 && spares.waiting(), 10_000, 'spares');
    process.kill(first.pid, 'SIGKILL');
    const replacement = await pollUntil(() => spares.waiting().find((s) => s.role === first.role && s.pid !== first.pid), 10_000, 'a replacement');
    expect(exits).toEqual([]); // a spare's death is nobody's failure
    const all = spares.waiting();
    await spares.stop(500);
    for (const { pid } of [...all, replacement]) expect(isAlive(pid)).toBe(false);
    expect(existsSync(join(dir, 'spares'))).toBe(false);
  });

  it('disabled, boots a process for each take', async () => {
    spares = new WarmSpares(join(dir, 'spares'), false);
    spares.start();
    expect(spares.waiting()).toEqual([]);
    const proc = await spares.take('streamer', group, join(dir, 'streamer.log'), dir);
    expect(isAlive(proc.pid)).toBe(true);
    expect(spares.waiting()).toEqual([]);
  });

  it('keeps its spare when the taking group is being stopped', async () => {
    spares = new WarmSpares(join(dir, 'spares'), true);
    spares.start();
    const booted = await pollUntil(() => spares.waiting().length === 2 && spares.waiting(), 10_000, 'spares');
    const closed = new ProcessGroup(() => undefined);
    await closed.stopAll(0);
    await expect(spares.take('streamer', closed, join(dir, 'streamer.log'), dir)).rejects.toThrow(/being stopped/);
    expect(spares.waiting()).toEqual(booted);
  });
});
