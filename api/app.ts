// The API's Koa application: errors and request log → CORS → public routes (/healthz, the Proxy
// Events web page, /api/openapi.json, and any routers passed in) → bearer token for /api/* → the API.

import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import type { Logger } from 'pino';
import type { EventStore } from './event-store.ts';
import type { AuditFile } from './audit/audit-file.ts';
import { auditRecorder } from './audit/recorder.ts';
import { isApiPath, requireToken } from './middleware/auth.ts';
import { cors } from './middleware/cors.ts';
import { errorsAndRequestLog, loggable, type RequestState } from './middleware/errors.ts';
import type { ApiMetrics } from './metrics.ts';
import { apiRouter, openApiRouter } from './routes/api-router.ts';
import { ElasticsearchUnavailableError } from './errors.ts';
import { defaultInsightsConfig, type InsightsConfig } from './insights/config.ts';
import { insightsRouter } from './routes/insights.ts';
import { TokenVerifier, type ConfiguredToken } from './tokens.ts';
import { webRouter } from './web/router.ts';

export interface AppOptions {
  store: EventStore;
  tokens: readonly ConfiguredToken[];
  logger: Logger;
  /** Browser origins allowed to call the API; none by default. */
  corsOrigins?: readonly string[];
  /** Where every /api request is recorded (main always gives one). */
  audit?: AuditFile;
  /** Routers served without a token, before /api (e.g. the web page). Their paths must not start with /api/. */
  publicRouters?: readonly Router[];
  /** Observes every request; served on the metrics listener, not here. */
  metrics?: ApiMetrics;
  /** The detectors' thresholds; the defaults when absent. */
  insights?: InsightsConfig;
}

function healthRouter(store: EventStore): Router {
  const router = new Router();
  router.get('/healthz', async (ctx) => {
    try {
      ctx.body = { status: 'ok', elasticsearch: await store.health((ctx.state as RequestState).clientGone) };
    } catch (error) {
      if (!(error instanceof ElasticsearchUnavailableError)) throw error;
      ctx.status = 503;
      ctx.body = { status: 'unavailable', elasticsearch: 'unreachable' };
    }
  });
  return router;
}

/** What Koa reports when the client closed or reset the connection before the response ended. */
const CLIENT_GONE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE']);

export function createApp(options: AppOptions): Koa {
  const app = new Koa();
  // Errors Koa sees itself while sending go on their request's line: a client that went away
  // makes it a 499; anything else is what cut the response short.
  app.on('error', (error: unknown, ctx?: Context) => {
    const state = ctx?.state as RequestState | undefined;
    if (!state) options.logger.error({ err: loggable(error) }, 'response failed after it started');
    else if (!state.clientGone.aborted && !CLIENT_GONE_CODES.has((error as { code?: string }).code ?? '')) state.failure ??= error;
  });
  app.use(errorsAndRequestLog(options.logger, options.metrics, options.audit && auditRecorder(options.audit)));
  app.use(cors(options.corsOrigins ?? []));
  app.use(healthRouter(options.store).routes());
  for (const router of [webRouter(), openApiRouter(), ...(options.publicRouters ?? [])]) app.use(router.routes()).use(router.allowedMethods());
  const auth = requireToken(new TokenVerifier(options.tokens));
  app.use((ctx, next) => (isApiPath(ctx.path) ? auth(ctx, next) : next()));
  const insights = insightsRouter(options.store, options.insights ?? defaultInsightsConfig());
  app.use(insights.routes()).use(insights.allowedMethods());
  const api = apiRouter(options.store, options.logger);
  app.use(api.routes()).use(api.allowedMethods());
  return app;
}
