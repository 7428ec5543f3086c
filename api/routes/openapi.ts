// GET /api/openapi.json: generated from the zod schemas that validate the parameters and shape the
// responses, so the description cannot drift from what the API does.

import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../../common/errors.ts';
import { proxyAccessLogSchema } from '../events/record.ts';
import { findingSchema, insightsResponseSchema } from '../insights/finding.ts';
import { AUDIT_PARAMS, EXPORT_PARAMS, INSIGHTS_PARAMS, LIST_PARAMS, STATS_PARAMS, type ParamSpec } from '../query/params.ts';
import type { Permission } from '../tokens.ts';
import { auditRecordSchema, auditResponseSchema } from './audit.ts';
import { listResponseSchema } from './list.ts';
import { statsResponseSchema } from './stats.ts';

const API_ERROR_CODES = Object.keys(ERROR_CODES).filter((code) => code.startsWith('API_')) as [ErrorCode, ...ErrorCode[]];

export const errorSchema = z
  .object({
    error: z.enum(API_ERROR_CODES).meta({ description: 'Stable error code' }),
    parameter: z.string().optional().meta({ description: 'The offending query parameter (API_BAD_PARAMETER)' }),
    permission: z.string().optional().meta({ description: 'The permission the token lacks (API_FORBIDDEN)' }),
    message: z.string(),
    request_id: z.string().optional().meta({ description: 'Quote it when reporting an internal error' }),
  })
  .meta({ id: 'Error' });

const REF = (id: string) => ({ $ref: `#/components/schemas/${id}` });

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

function parameters(table: Record<string, ParamSpec>) {
  return Object.entries(table).map(([name, spec]) => {
    const schema = jsonSchema(spec.schema);
    return spec.repeated
      ? { name, in: 'query', description: spec.description, schema: { type: 'array', items: schema }, style: 'form', explode: true }
      : { name, in: 'query', description: spec.description, schema };
  });
}

function errors(...statuses: number[]) {
  const text: Record<number, string> = {
    400: 'A bad, repeated or unknown parameter (named in the body)',
    401: 'Missing or wrong bearer token',
    403: 'The token lacks the permission the endpoint needs (named in the body)',
    503: 'Elasticsearch unreachable or too slow',
    500: 'Unexpected error (logged with the request id)',
  };
  return Object.fromEntries(
    statuses.map((status) => [status, { description: text[status], content: { 'application/json': { schema: REF('Error') } } }]),
  );
}

function operation(summary: string, table: Record<string, ParamSpec>, ok: Record<string, unknown>, permission: Permission) {
  return {
    get: {
      summary,
      description: `Needs a token with the \`${permission}\` permission.`,
      security: [{ bearer: [] }],
      parameters: parameters(table),
      responses: { 200: ok, ...errors(400, 401, 403, 500, 503) },
    },
  };
}

export function openApiDocument(): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  for (const schema of [proxyAccessLogSchema, listResponseSchema, statsResponseSchema, findingSchema, insightsResponseSchema, auditRecordSchema, auditResponseSchema, errorSchema]) registry.add(schema, { id: schema.meta()!.id as string });
  const { schemas } = z.toJSONSchema(registry, { uri: (id) => `#/components/schemas/${id}`, unrepresentable: 'any' }) as {
    schemas: Record<string, Record<string, unknown>>;
  };
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Proxy access log API',
      version: '1.0.0',
      description: "Search the reverse proxy's access events. GET /api/events/proxy is a superset of NetBird's endpoint of the same path.",
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API token from the configuration (NetBird clients may send `Token <token>`)' } },
      schemas,
    },
    paths: {
      '/api/events/proxy': operation('List proxy access events (NetBird-compatible)', LIST_PARAMS, {
        description: 'One page of matching events',
        content: { 'application/json': { schema: REF('ProxyAccessLogsResponse') } },
      }, 'read'),
      '/api/events/proxy/stats': operation('Aggregations over the matching events', STATS_PARAMS, {
        description: 'Counts over time, top lists, breakdowns and duration percentiles',
        content: { 'application/json': { schema: REF('ProxyAccessStats') } },
      }, 'read'),
      '/api/events/proxy/export': operation('Every matching event, streamed', EXPORT_PARAMS, {
        description: 'NDJSON (one ProxyAccessLog a line) or CSV with a header row',
        content: {
          'application/x-ndjson': { schema: REF('ProxyAccessLog') },
          'text/csv': { schema: { type: 'string' } },
        },
      }, 'export'),
      '/api/events/proxy/insights': operation('Unusual access found by the detectors, most severe first', INSIGHTS_PARAMS, {
        description: 'Findings over the range (default: the configured hours before end_date or now), each with its evidence and the filters that list its events',
        content: { 'application/json': { schema: REF('InsightsResponse') } },
      }, 'insights'),
      '/api/audit': operation("The API's audit log: one record per API request, newest first", AUDIT_PARAMS, {
        description: 'One page of audit records',
        content: { 'application/json': { schema: REF('AuditResponse') } },
      }, 'audit'),
      '/api/openapi.json': { get: { summary: 'This document (no token needed)', security: [], responses: { 200: { description: 'OpenAPI 3.1' } } } },
      '/healthz': {
        get: {
          summary: 'Whether Elasticsearch is reachable (no token needed)',
          responses: { 200: { description: 'Reachable' }, 503: { description: 'Unreachable' } },
        },
      },
    },
  };
}
