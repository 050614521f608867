// Builds what the gateway serves to browsers, after `nest build` (which empties dist/):
//   dist/sdk/  the client SDK: streamstack.mjs (ES module), streamstack.js (global Streamstack), streamstack.d.ts
//   dist/web/  the dashboard: index.html, app.js, app.css
// esbuild bundles; tsc type-checks (esbuild does not); dts-bundle-generator writes the one .d.ts.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';

const bin = (name) => `node_modules/.bin/${name}`;
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });

run(bin('tsc'), ['-p', 'libs/client-sdk/tsconfig.json']);
run(bin('tsc'), ['-p', 'web/tsconfig.json']);

const common = { bundle: true, target: 'es2020', sourcemap: true, minify: true, legalComments: 'none', logLevel: 'warning' };
const sdk = 'libs/client-sdk/src/index.ts';
await Promise.all([
  build({ ...common, entryPoints: [sdk], format: 'esm', outfile: 'dist/sdk/streamstack.mjs' }),
  build({ ...common, entryPoints: [sdk], format: 'iife', globalName: 'Streamstack', outfile: 'dist/sdk/streamstack.js' }),
  build({ ...common, entryPoints: ['web/src/main.tsx'], format: 'esm', jsx: 'automatic', jsxImportSource: 'preact', outfile: 'dist/web/app.js' }),
]);
run(bin('dts-bundle-generator'), ['--silent', '--project', 'libs/client-sdk/tsconfig.json', '--no-banner', '-o', 'dist/sdk/streamstack.d.ts', sdk]);
mkdirSync('dist/web', { recursive: true });
copyFileSync('web/index.html', 'dist/web/index.html');
copyFileSync('web/styles.css', 'dist/web/app.css');
