import { extname, join } from 'node:path';
import { childEnv } from './child-env';

export interface NodeScriptCommand {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/**
 * How to run one of our Node child scripts (`<dir>/<name>.js`): the compiled .js from dist, or,
 * when this code itself runs as TypeScript (Jest, ts-node), the .ts through ts-node's
 * transpile-only hook.
 */
export function nodeScript(dir: string, name: string, baseEnv: NodeJS.ProcessEnv = childEnv()): NodeScriptCommand {
  const ext = extname(__filename);
  const script = join(dir, `${name}${ext}`);
  if (ext !== '.ts') return { command: process.execPath, args: [script], env: baseEnv };
  return {
    command: process.execPath,
    args: ['-r', require.resolve('ts-node/register/transpile-only'), script],
    // ts-node would look for a tsconfig from the cwd; the scripts need none (and no path aliases).
    env: {
      ...baseEnv,
      TS_NODE_SKIP_PROJECT: 'true',
      TS_NODE_COMPILER_OPTIONS: JSON.stringify({ module: 'commonjs', moduleResolution: 'node', target: 'ES2022', esModuleInterop: true }),
    },
  };
}
