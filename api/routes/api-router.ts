// The token-protected endpoints under /api. Each handler validates its query against its
// parameter table and hands the typed values on, with the request's signal: an abandoned request
// aborts its Elasticsearch requests.

import Router from '@koa/router';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import { ClientClosedRequestError } from '../errors.ts';
import type { EventStore } from '../event-store.ts';
import type { RequestState } from '../middleware/errors.ts';
import { EXPORT_PARAMS, LIST_PARAMS, STATS_PARAMS, parseQuery } from '../query/params.ts';
import { EXPORT_CONTENT_TYPE, exportEvents } from './export.ts';
import { listEvents } from './list.ts';
import { openApiDocument } from './openapi.ts';
import { eventStats } from './stats.ts';

/** The request's own signal, aborted when its client goes away (set by the error middleware). */
function clientGone(ctx: Context): AbortSignal {
  return (ctx.state as RequestState).clientGone;
}

export function apiRouter(store: EventStore, logger: Logger): Router {
  const router = new Router({ prefix: '/api' });

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
    const state = ctx.state as RequestState;
    const stream = await exportEvents(store, params, state.clientGone, logger.child({ requestId: state.requestId }));
    // A page that fails mid-stream cuts the download short: the request's log line says why. The
    // client's own going away is not a failure of the export.
    stream.once('error', (error) => {
      if (!(error instanceof ClientClosedRequestError)) state.failure = error;
    });
    ctx.body = stream;
  });

  return router;
}

export const OPENAPI_PATH = '/api/openapi.json';

/** The API's description, served without a token: it describes the endpoints, it holds no data. */
export function openApiRouter(): Router {
  const router = new Router();
  const openApi = JSON.stringify(openApiDocument());
  router.get(OPENAPI_PATH, (ctx) => {
    ctx.type = 'application/json';
    ctx.body = openApi;
  });
  return router;
}
