// Serves the Proxy Events page: the HTML shell at `/` and `/events`, and its bundled script and
// style sheet under `/web/`. None of it needs a token: the page holds no data, it signs in and
// then reads everything through the bearer-protected /api endpoints.

import Router from '@koa/router';
import type { Context } from 'koa';
import { bundleWebPage, type WebAsset, type WebBundle } from './bundle.ts';

export const PAGE_PATHS = ['/', '/events'] as const;
export const ASSET_PREFIX = '/web/';

// Everything comes from this origin; no inline script, so an injected string cannot run.
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function shell(bundle: WebBundle): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Proxy Events</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${ASSET_PREFIX}${bundle.style.name}">
<script type="module" src="${ASSET_PREFIX}${bundle.script.name}"></script>
</head>
<body><div id="app"></div></body>
</html>
`;
}

/**
 * The page's routes. The bundle is built on first use (about 100 ms) and kept for the life of the
 * process; a failed build is retried on the next request rather than cached.
 */
export function webRouter(): Router {
  let pending: Promise<{ bundle: WebBundle; html: string }> | undefined;
  const load = () => {
    pending ??= bundleWebPage().then(
      (bundle) => ({ bundle, html: shell(bundle) }),
      (error: unknown) => {
        pending = undefined;
        throw error;
      },
    );
    return pending;
  };

  const router = new Router();
  const page = async (ctx: Context) => {
    const { html } = await load();
    ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = html;
  };
  for (const path of PAGE_PATHS) router.get(path, page);

  router.get(`${ASSET_PREFIX}:name`, async (ctx) => {
    const { bundle } = await load();
    const file: WebAsset | undefined = [bundle.script, bundle.style].find((a) => a.name === ctx.params.name);
    if (!file) return;
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
    ctx.type = file.type;
    ctx.body = file.body;
  });
  return router;
}
