// The API's audit log: one document per API request (who asked what, and what came back), its
// index template and its daily index names. The same object is a line of the API's audit file and
// a document of `<prefix>_audit-YYYY.MM.DD`, and the audit endpoint answers it unchanged. The
// indices sit beside the events' (`<prefix>-*` does not match them), so no event query reads them.

import { TEMPLATE_MANAGER, dailyIndexName } from './proxy-event-document.ts';

/** One API request. Never the token itself: `token` is the configured token's name. */
export interface AuditDocument {
  /** When the request arrived. */
  '@timestamp': string;
  /** The request id (also the X-Request-Id header and the document's `_id`). */
  request_id: string;
  /** The configured name of the token; absent when no valid token was presented. */
  token?: string;
  /** The token's service scope; absent when it sees every service. */
  services?: string[];
  method: string;
  path: string;
  /** The query parameters as sent, valid or not. */
  parameters: Record<string, string | string[]>;
  status: number;
  /** Event records returned: a list's page, an export's lines, the records a stats answer counted. */
  records: number;
  duration_ms: number;
  /** Exports: the Elasticsearch query that selected the records, service scope included. */
  filter?: object;
}

/** Field names the audit endpoint filters and sorts on. */
export const AUDIT_FIELD = {
  timestamp: '@timestamp',
  requestId: 'request_id',
  token: 'token',
  path: 'path',
  status: 'status',
} as const;

function auditPrefix(prefix: string): string {
  return `${prefix}_audit`;
}

/** Daily audit index for a moment, in UTC: `<prefix>_audit-YYYY.MM.DD`. */
export function dailyAuditIndexName(prefix: string, at: Date): string {
  return dailyIndexName(auditPrefix(prefix), at);
}

export function auditIndexPattern(prefix: string): string {
  return `${auditPrefix(prefix)}-*`;
}

export function auditIndexTemplateName(prefix: string): string {
  return `${auditPrefix(prefix)}-template`;
}

/**
 * Parameters and filters are kept as sent (`enabled: false`: in `_source`, not indexed), so any
 * parameter name, however odd, can neither fail the document nor grow the mapping.
 */
export function auditIndexTemplate(prefix: string) {
  const keyword = { type: 'keyword' as const, ignore_above: 2048 };
  return {
    name: auditIndexTemplateName(prefix),
    index_patterns: [auditIndexPattern(prefix)],
    priority: 200,
    template: {
      settings: { number_of_shards: 1, auto_expand_replicas: '0-1', refresh_interval: '1s' },
      mappings: {
        dynamic: false as const,
        properties: {
          [AUDIT_FIELD.timestamp]: { type: 'date' as const },
          [AUDIT_FIELD.requestId]: keyword,
          [AUDIT_FIELD.token]: keyword,
          services: keyword,
          method: keyword,
          [AUDIT_FIELD.path]: keyword,
          parameters: { type: 'object' as const, enabled: false },
          [AUDIT_FIELD.status]: { type: 'long' as const },
          records: { type: 'long' as const },
          duration_ms: { type: 'float' as const },
          filter: { type: 'object' as const, enabled: false },
        },
      },
    },
    _meta: { description: 'The API’s audit log: one document per API request, one daily index per UTC day', managed_by: TEMPLATE_MANAGER, index_prefix: auditPrefix(prefix) },
  };
}
