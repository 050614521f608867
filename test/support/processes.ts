import { readFileSync } from 'node:fs';

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
