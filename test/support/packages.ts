import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Builds a real package archive with the system's tar/zip from `files` (path → content;
 * a value `{ symlink: target }` makes a symbolic link). `tarTransform` rewrites member names
 * (GNU tar --transform), which is how a test crafts `../` entries.
 */
export function buildPackage(
  format: 'tar.gz' | 'zip',
  files: Record<string, string | { symlink: string }>,
  options: { tarTransform?: string } = {},
): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'streamstack-pkg-'));
  try {
    for (const [name, content] of Object.entries(files)) {
      const path = join(dir, 'src', name);
      execFileSync('mkdir', ['-p', join(path, '..')]);
      if (typeof content === 'string') writeFileSync(path, content);
      else symlinkSync(content.symlink, path);
    }
    const out = join(dir, `package.${format}`);
    const names = Object.keys(files);
    if (format === 'tar.gz') {
      const transform = options.tarTransform ? [`--transform=${options.tarTransform}`] : [];
      execFileSync('tar', ['-czf', out, ...transform, '-C', join(dir, 'src'), ...names]);
    } else {
      execFileSync('zip', ['-q', '-y', out, ...names], { cwd: join(dir, 'src') });
    }
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const testPatternManifest = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  kind: 'test-pattern',
  display: { width: 800, height: 600, fps: 15 },
  resources: { cpus: 1, memory: '256MB' },
  ...extra,
});
