// The token-protected endpoints under /api. Each handler validates its query against its
// parameter table and hands the typed values on; an abandoned request aborts its search.

import Router from '@koa/router';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { EventStore } from '../event-store.ts';
import { EXPORT_PARAMS, LIST_PARAMS, STATS_PARAMS, parseQuery } from '../query/params.ts';
import { EXPORT_CONTENT_TYPE, exportEvents } from './export.ts';
import { listEvents } from './list.ts';
import { openApiDocument } from './openapi.ts';
import { eventStats } from './stats.ts';

/** Aborted when the client goes away before the response is complete. */
function clientGone(ctx: Context): AbortSignal {
  const controller = new AbortController();
  ctx.res.once('close', () => {
    if (!ctx.res.writableFinished) controller.abort();
  });
  return controller.signal;
}

export function apiRouter(store: EventStore, logger: Logger): Router {
  const router = new Router({ prefix: '/api' });
  const openApi = JSON.stringify(openApiDocument());

  router.get('/events/proxy', async (ctx) => {
    ctx.body = await listEvents(store, parseQuery(LIST_PARAMS, ctx.query), clientGone(ctx));
  });

  router.get('/events/proxy/stats', async (ctx) => {
    ctx.body = await eventStats(store, parseQuery(STATS_PARAMS, ctx.query), clientGone(ctx));
  });

  router.get('/events/proxy/export', async (ctx) => {
    const params = parseQuery(EXPORT_PARAMS, ctx.query);
    ctx.type = EXPORT_CONTENT_TYPE[params.format];
    ctx.attachment(`proxy-events.${params.format}`);
    // HEAD: the headers only. Koa would never read (nor end) a stream, nor its point in time.
    if (ctx.method === 'HEAD') {
      ctx.status = 200;
      return;
    }
    ctx.body = await exportEvents(store, params, clientGone(ctx), logger);
  });

  router.get('/openapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.body = openApi;
  });

  return router;
}
