// The token-protected endpoints under /api. Each handler first takes the service scope of the
// permission it needs (403 without it; the scope is what every event query is built with), then
// validates its query against its parameter table and hands the typed values on, with the
// request's signal: an abandoned request aborts its Elasticsearch requests.

import Router from '@koa/router';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import { ClientClosedRequestError } from '../errors.ts';
import type { EventStore } from '../event-store.ts';
import { grantOf, scopeFor } from '../middleware/auth.ts';
import type { RequestState } from '../middleware/errors.ts';
import { filterQuery } from '../query/filters.ts';
import { AUDIT_PARAMS, EXPORT_PARAMS, LIST_PARAMS, STATS_PARAMS, parseQuery } from '../query/params.ts';
import { auditRecords } from './audit.ts';
import { EXPORT_CONTENT_TYPE, exportEvents, flushedTo } from './export.ts';
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
    const scope = scopeFor(ctx, 'read');
    const page = await listEvents(store, scope, parseQuery(LIST_PARAMS, ctx.query), clientGone(ctx));
    (ctx.state as RequestState).records = page.data.length;
    ctx.body = page;
  });

  router.get('/events/proxy/stats', async (ctx) => {
    const scope = scopeFor(ctx, 'read');
    const stats = await eventStats(store, scope, parseQuery(STATS_PARAMS, ctx.query), clientGone(ctx));
    (ctx.state as RequestState).records = stats.total_records;
    ctx.body = stats;
  });

  router.get('/events/proxy/export', async (ctx) => {
    const scope = scopeFor(ctx, 'export');
    const params = parseQuery(EXPORT_PARAMS, ctx.query);
    ctx.type = EXPORT_CONTENT_TYPE[params.format];
    ctx.attachment(`proxy-events.${params.format}`);
    // HEAD: the headers only. Koa would never read (nor end) a stream, nor its point in time.
    if (ctx.method === 'HEAD') {
      ctx.status = 200;
      return;
    }
    const state = ctx.state as RequestState;
    const query = filterQuery(scope, params);
    state.exportFilter = query;
    state.records = 0;
    const counted = (records: number) => void (state.records! += records);
    const stream = await exportEvents(store, query, params, state.clientGone, logger.child({ requestId: state.requestId }), flushedTo(ctx.res), counted);
    // A page that fails mid-stream cuts the download short: the request's log line says why. The
    // client's own going away is not a failure of the export.
    stream.once('error', (error) => {
      if (!(error instanceof ClientClosedRequestError)) state.failure = error;
    });
    ctx.body = stream;
  });

  router.get('/audit', async (ctx) => {
    grantOf(ctx).require('audit');
    const page = await auditRecords(store, parseQuery(AUDIT_PARAMS, ctx.query), clientGone(ctx));
    (ctx.state as RequestState).records = page.data.length;
    ctx.body = page;
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
