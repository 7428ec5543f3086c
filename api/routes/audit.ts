// GET /api/audit: the API's own audit log, newest first, with the events endpoint's time-range
// parameters and 400 rules. Only tokens with the audit permission (which see every service) read it.

import type { estypes } from '@elastic/elasticsearch';
import { z } from 'zod';
import { AUDIT_FIELD, type AuditDocument } from '../../common/api-audit-document.ts';
import { totalHits, type EventStore } from '../event-store.ts';
import { timeRange } from '../query/filters.ts';
import type { AUDIT_PARAMS, Parsed } from '../query/params.ts';
import { DEFAULT_PAGE_SIZE, pageOffset, pageSchema } from './list.ts';

export type AuditParams = Parsed<typeof AUDIT_PARAMS>;

export const auditRecordSchema = z
  .object({
    '@timestamp': z.string().meta({ format: 'date-time', description: 'When the request arrived' }),
    request_id: z.string().meta({ description: 'The X-Request-Id the API answered with' }),
    token: z.string().optional().meta({ description: 'The configured name of the token (never the token); absent without a valid one' }),
    services: z.array(z.string()).optional().meta({ description: "The token's service scope; absent when it sees every service" }),
    method: z.string(),
    path: z.string(),
    parameters: z.record(z.string(), z.union([z.string(), z.array(z.string())])).meta({ description: 'The query parameters as sent' }),
    status: z.number().int(),
    records: z.number().int().meta({ description: 'Records returned: a page, an export’s lines, the events a stats answer counted' }),
    duration_ms: z.number(),
    filter: z.custom<object>((value) => typeof value === 'object' && value !== null).optional().meta({ description: 'Exports: the Elasticsearch query that selected the records' }),
  })
  .meta({ id: 'AuditRecord' });

export const auditResponseSchema = pageSchema(auditRecordSchema).meta({ id: 'AuditResponse' });

export type AuditResponse = z.infer<typeof auditResponseSchema>;

export function auditQuery(params: AuditParams): estypes.QueryDslQueryContainer {
  const clauses: estypes.QueryDslQueryContainer[] = [];
  const { start, end } = timeRange(params);
  if (start !== undefined || end !== undefined) clauses.push({ range: { [AUDIT_FIELD.timestamp]: { gte: start, lte: end, format: 'epoch_millis' } } });
  if (params.token) clauses.push({ terms: { [AUDIT_FIELD.token]: params.token } });
  if (params.path) clauses.push({ terms: { [AUDIT_FIELD.path]: params.path } });
  if (params.status_code) clauses.push({ terms: { [AUDIT_FIELD.status]: params.status_code } });
  return { bool: { filter: clauses } };
}

export async function auditRecords(store: EventStore, params: AuditParams, signal?: AbortSignal): Promise<AuditResponse> {
  const pageSize = params.page_size ?? DEFAULT_PAGE_SIZE;
  const from = pageOffset(params.page, pageSize);
  const response = await store.searchAudit(
    {
      query: auditQuery(params),
      sort: [
        { [AUDIT_FIELD.timestamp]: { order: 'desc', unmapped_type: 'date' } },
        { [AUDIT_FIELD.requestId]: { order: 'desc', unmapped_type: 'keyword' } },
      ],
      from,
      size: pageSize,
      track_total_hits: true,
    },
    signal,
  );
  const total = totalHits(response);
  return {
    data: response.hits.hits.map((hit) => hit._source as AuditDocument),
    page: Math.floor(from / pageSize) + 1,
    page_size: pageSize,
    total_records: total,
    total_pages: Math.ceil(total / pageSize),
  };
}
