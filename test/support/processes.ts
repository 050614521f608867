import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * The process runs: it exists and is not a zombie. A zombie has exited; it lingers only until
 * its parent reaps it, and PID 1 in this container does not reap orphans.
 */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Every live process whose command line or working directory mentions `needle` (a test's data dir). */
export function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle) || readlinkSync(`/proc/${entry}/cwd`).includes(needle)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids.filter((p) => p !== process.pid && isAlive(p));
}
