/**
 * The environment every child of the node starts from: what a program needs to run (where
 * binaries are, the language, the time zone), never the server's own settings, its tokens or
 * its database URL (STREAMSTACK_*, cloud credentials, …). Each child adds what it needs.
 */
const PASSED = ['PATH', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR', 'HOME', 'NODE_OPTIONS'];

export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of PASSED) if (process.env[key] !== undefined) env[key] = process.env[key];
  return { ...env, ...extra };
}
