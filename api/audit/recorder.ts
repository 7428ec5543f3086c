// Turns each ended /api request into its audit document and appends it to the audit file: the
// token's name and scope (never the token), the endpoint, the parameters as sent, the status, the
// records returned and the time taken; an export's Elasticsearch query besides.

import type { Context } from 'koa';
import type { AuditDocument } from '../../common/api-audit-document.ts';
import { isApiPath } from '../middleware/auth.ts';
import type { RequestOutcome, RequestState } from '../middleware/errors.ts';
import type { AuditFile } from './audit-file.ts';

export function auditDocument(ctx: Context, outcome: RequestOutcome, now = Date.now()): AuditDocument {
  const state = ctx.state as RequestState;
  const document: AuditDocument = {
    '@timestamp': new Date(now - outcome.ms).toISOString(),
    request_id: state.requestId,
    method: ctx.method,
    path: ctx.path,
    parameters: Object.fromEntries(Object.entries(ctx.query).filter((entry): entry is [string, string | string[]] => entry[1] !== undefined)),
    status: outcome.status,
    records: state.records ?? 0,
    duration_ms: outcome.ms,
  };
  if (state.grant) document.token = state.grant.name;
  if (state.grant?.services) document.services = [...state.grant.services];
  if (state.exportFilter) document.filter = state.exportFilter;
  return document;
}

/** The request log's `ended` hook that records every /api request in `file`. */
export function auditRecorder(file: AuditFile) {
  return (ctx: Context, outcome: RequestOutcome): void => {
    if (isApiPath(ctx.path)) file.append(auditDocument(ctx, outcome));
  };
}
