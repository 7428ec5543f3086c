// The API's own errors: each has a stable `code` (listed in common/errors.ts, and sent as the body's
// `error`) and knows its HTTP status and JSON body, so the error middleware never guesses what to
// tell a client.

import { ProxyAccessLogError } from '../common/errors.ts';

export abstract class ApiError extends ProxyAccessLogError {
  abstract readonly status: number;
  abstract body(): Record<string, unknown>;
}

/** A query parameter that is unknown, repeated where it may not be, or has a bad value. */
export class BadParameterError extends ApiError {
  readonly code = 'API_BAD_PARAMETER';
  readonly status = 400;
  readonly parameter: string;
  /** What was wrong, in words, without the parameter's name. */
  readonly problem: string;
  constructor(parameter: string, problem: string) {
    super(`${parameter}: ${problem}`);
    this.parameter = parameter;
    this.problem = problem;
  }
  body() {
    return { error: this.code, parameter: this.parameter, message: this.problem };
  }
}

export class UnauthorizedError extends ApiError {
  readonly code = 'API_UNAUTHORIZED';
  readonly status = 401;
  constructor() {
    super('missing or invalid bearer token');
  }
  body() {
    return { error: this.code, message: this.message };
  }
}

/** The token is valid but lacks the permission the endpoint needs. */
export class ForbiddenError extends ApiError {
  readonly code = 'API_FORBIDDEN';
  readonly status = 403;
  readonly permission: string;
  constructor(permission: string) {
    super(`this token lacks the ${permission} permission`);
    this.permission = permission;
  }
  body() {
    return { error: this.code, permission: this.permission, message: this.message };
  }
}

/** Elasticsearch is unreachable, timed out, or refused the request for lack of capacity. */
export class ElasticsearchUnavailableError extends ApiError {
  readonly code = 'API_ELASTICSEARCH_UNAVAILABLE';
  readonly status = 503;
  /** Why, in words, for the log: never the request or response bodies. */
  readonly reason: string;
  constructor(reason: string, cause: unknown) {
    super('Elasticsearch is unavailable or did not answer in time', { cause });
    this.reason = reason;
  }
  body() {
    return { error: this.code, message: this.message };
  }
}

/**
 * An export that had sent records lost Elasticsearch for longer than it waits to resume. Its
 * status can no longer be sent: the body is the export's last line, and the download is cut short.
 */
export class ExportInterruptedError extends ApiError {
  readonly code = 'API_EXPORT_INTERRUPTED';
  readonly status = 503;
  /** Resumes the export after the last record sent (the same request with `cursor=`). */
  readonly cursor: string | null;
  /** Records sent before the interruption. */
  readonly records: number;
  constructor(cursor: string | null, records: number, cause: ElasticsearchUnavailableError) {
    super('the export lost Elasticsearch part-way; resume it with the same request and this cursor', { cause });
    this.cursor = cursor;
    this.records = records;
  }
  body() {
    return { error: this.code, message: this.message, cursor: this.cursor, records: this.records };
  }
}

/** The status nginx and the proxy log for a client that closed its connection first. */
export const CLIENT_CLOSED_STATUS = 499;

/** The client went away before its answer was complete; nobody receives the body. */
export class ClientClosedRequestError extends ApiError {
  readonly code = 'API_CLIENT_CLOSED';
  readonly status = CLIENT_CLOSED_STATUS;
  constructor() {
    super('client closed request');
  }
  body() {
    return { error: this.code, message: this.message };
  }
}
