import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository (or image) root: the nearest directory up from here with a package.json. */
function packageRoot(from = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return from;
  }
}

/** Where `npm run build` puts the dashboard (web/) and the client SDK (libs/client-sdk/). */
export const BROWSER_ASSETS = {
  web: join(packageRoot(), 'dist', 'web'),
  sdk: join(packageRoot(), 'dist', 'sdk'),
};

/**
 * Serves the dashboard at `/` (PROTOCOL.md §10) and the SDK at `/sdk/`. Files that are not
 * there fall through to the API's routes (and so to its 404 in the envelope). Nothing is
 * fingerprinted, so browsers revalidate each time (ETag), which costs a 304.
 */
export function serveBrowserAssets(app: NestExpressApplication): void {
  if (!existsSync(join(BROWSER_ASSETS.web, 'index.html'))) {
    new Logger('web').warn(`the dashboard is not built (${BROWSER_ASSETS.web}): run npm run build`);
  }
  type Headers = { setHeader(k: string, v: string): void };
  const options = { index: false as const, fallthrough: true };
  app.useStaticAssets(BROWSER_ASSETS.sdk, {
    ...options,
    prefix: '/sdk/',
    setHeaders: (res: Headers, path: string) => {
      res.setHeader('Cache-Control', 'no-cache');
      // Any page may load the SDK with a plain <script> tag (helmet says same-origin).
      res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
      // By its extension alone a .d.ts would go out as an MPEG transport stream.
      if (path.endsWith('.d.ts')) res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    },
  });
  app.useStaticAssets(BROWSER_ASSETS.web, { ...options, index: 'index.html', setHeaders: (res: Headers) => res.setHeader('Cache-Control', 'no-cache') });
}
