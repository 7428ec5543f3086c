// Outermost middleware: gives every request an id, logs one line per request (path only: query
// strings never reach the log), and turns every error into JSON. ApiErrors say what they are;
// anything else is a 500 that names the request id and keeps the stack in the log.

import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import type { ErrorCode } from '../../common/errors.ts';
import { ApiError } from '../errors.ts';

export interface RequestState {
  requestId: string;
  /** The name of the token the request presented, once authenticated. */
  tokenName?: string;
}

/**
 * What the log keeps of an error: its name, message, stack and status. Not the Elasticsearch
 * client's `meta`, which carries the whole request (the filters a user typed) and response.
 */
export function loggable(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const status = (error as { statusCode?: unknown }).statusCode;
  return { name: error.name, message: error.message, stack: error.stack, ...(status === undefined ? {} : { status }) };
}

export function errorsAndRequestLog(logger: Logger) {
  return async (ctx: Context, next: Next) => {
    const started = performance.now();
    const state = ctx.state as RequestState;
    state.requestId = randomUUID();
    ctx.set('X-Request-Id', state.requestId);
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error: 'API_NOT_FOUND' satisfies ErrorCode, message: `no such endpoint: ${ctx.method} ${ctx.path}` };
      }
    } catch (error) {
      if (error instanceof ApiError) {
        ctx.status = error.status;
        ctx.body = error.body();
        if (error.status === 401) ctx.set('WWW-Authenticate', 'Bearer realm="proxy-access-log"');
        if (error.status >= 500) logger.warn({ requestId: state.requestId, err: loggable(error.cause ?? error) }, error.message);
      } else {
        ctx.status = 500;
        ctx.body = { error: 'API_INTERNAL' satisfies ErrorCode, message: 'unexpected error; the request id is in the API log', request_id: state.requestId };
        logger.error({ requestId: state.requestId, err: loggable(error) }, 'unexpected error');
      }
    } finally {
      logger.info(
        {
          requestId: state.requestId,
          method: ctx.method,
          path: ctx.path,
          status: ctx.status,
          ms: Math.round(performance.now() - started),
          token: state.tokenName,
        },
        'request',
      );
    }
  };
}
