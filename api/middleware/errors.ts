// Outermost middleware: gives every request an id and a signal that aborts when its client goes
// away, turns every error into JSON, and logs one line per request once its response has ended
// (path only: query strings never reach the log). That line is also the request's diagnostic: a
// client gone is a 499; Elasticsearch unavailable is a warning with the cause in words; only an
// unexpected error (500) carries a stack.

import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import type { ErrorCode } from '../../common/errors.ts';
import { ApiError, CLIENT_CLOSED_STATUS, ClientClosedRequestError, ElasticsearchUnavailableError } from '../errors.ts';
import type { ApiMetrics } from '../metrics.ts';

export interface RequestState {
  requestId: string;
  /** Aborted when the client goes away before its response is complete. */
  clientGone: AbortSignal;
  /** The name of the token the request presented, once authenticated. */
  tokenName?: string;
  /** What cut a response short after it started (an export whose search failed mid-stream). */
  failure?: unknown;
}

/**
 * What the log keeps of an unexpected error: its name, message, stack and status. Not the
 * Elasticsearch client's `meta`, which carries the whole request (the filters a user typed) and response.
 */
export function loggable(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const status = (error as { statusCode?: unknown }).statusCode;
  return { name: error.name, message: error.message, stack: error.stack, ...(status === undefined ? {} : { status }) };
}

/** A problem the API expects and explains in words: no stack, its own code and level. */
function expected(error: unknown): { level: 'info' | 'warn'; code: ErrorCode; cause: string } | undefined {
  if (error instanceof ClientClosedRequestError) return { level: 'info', code: error.code, cause: error.message };
  if (error instanceof ElasticsearchUnavailableError) return { level: 'warn', code: error.code, cause: error.reason };
  return undefined;
}

function requestLine(logger: Logger, metrics: ApiMetrics | undefined, ctx: Context, started: number, error: unknown): void {
  const state = ctx.state as RequestState;
  const completed = ctx.res.writableFinished;
  // A client that went away is the outcome, whatever its abort then made fail, unless something
  // had already cut the response short.
  const problem = !completed && state.failure === undefined ? new ClientClosedRequestError() : (state.failure ?? error);
  const line = {
    requestId: state.requestId,
    method: ctx.method,
    path: ctx.path,
    status: problem instanceof ClientClosedRequestError ? CLIENT_CLOSED_STATUS : ctx.status,
    ms: Math.round(performance.now() - started),
    token: state.tokenName,
  };
  // @koa/router leaves the pattern of the route that matched (e.g. /api/events/proxy) on the context.
  metrics?.request((ctx as { _matchedRoute?: string })._matchedRoute, ctx.method, line.status, (performance.now() - started) / 1000);
  const known = expected(problem);
  if (!known && (problem === undefined || (problem instanceof ApiError && problem.status < 500))) {
    logger.info(line, 'request');
    return;
  }
  const cutShort = state.failure !== undefined ? 'response cut short: ' : '';
  if (known) logger[known.level]({ ...line, error: known.code, cause: known.cause }, `${cutShort}${known.cause}`);
  else logger.error({ ...line, error: 'API_INTERNAL' satisfies ErrorCode, err: loggable(problem) }, `${cutShort}unexpected error`);
}

export function errorsAndRequestLog(logger: Logger, metrics?: ApiMetrics) {
  return async (ctx: Context, next: Next) => {
    const started = performance.now();
    const state = ctx.state as RequestState;
    state.requestId = randomUUID();
    const gone = new AbortController();
    state.clientGone = gone.signal;
    ctx.set('X-Request-Id', state.requestId);
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    let thrown: unknown;
    ctx.res.once('close', () => {
      if (!ctx.res.writableFinished) gone.abort();
      // Once the handler is done too: its error (if any) belongs on the same line.
      void settled.then(() => requestLine(logger, metrics, ctx, started, thrown));
    });
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error: 'API_NOT_FOUND' satisfies ErrorCode, message: `no such endpoint: ${ctx.method} ${ctx.path}` };
      }
    } catch (error) {
      thrown = error;
      if (error instanceof ApiError) {
        ctx.status = error.status;
        ctx.body = error.body();
        if (error.status === 401) ctx.set('WWW-Authenticate', 'Bearer realm="proxy-access-log"');
      } else {
        ctx.status = 500;
        ctx.body = { error: 'API_INTERNAL' satisfies ErrorCode, message: 'unexpected error; the request id is in the API log', request_id: state.requestId };
      }
    } finally {
      settle();
    }
  };
}
