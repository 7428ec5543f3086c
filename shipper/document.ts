// The access-log record → Elasticsearch document mapping (ECS), with geo and category enrichment.

import { categoryOf, type AccessRecord } from '../common/access-record.ts';
import { NANOSECONDS_PER_MILLISECOND, type ProxyEventDocument } from '../common/proxy-event-document.ts';
import { geoOf } from './geo.ts';

export function toDocument(record: AccessRecord): ProxyEventDocument {
  const document: ProxyEventDocument = {
    '@timestamp': record.time,
    event: {
      id: record.id,
      kind: 'event',
      category: ['web'],
      type: ['access'],
      duration: Math.round(record.duration_ms * NANOSECONDS_PER_MILLISECOND),
      outcome: record.status < 400 ? 'success' : 'failure',
    },
    http: {
      request: { method: record.method, body: { bytes: record.bytes_in } },
      response: { status_code: record.status, body: { bytes: record.bytes_out } },
    },
    url: { domain: record.host, path: record.path, scheme: record.protocol },
    source: { ip: record.source_ip },
    observer: { name: record.proxy },
    proxy_access: { category: categoryOf(record.status), auth_method: record.auth_method },
  };
  if (record.reason !== undefined) document.event.reason = record.reason;
  const geo = geoOf(record.source_ip);
  if (geo) document.source.geo = geo;
  if (record.user_id !== undefined || record.user_email !== undefined || record.user_name !== undefined) {
    document.user = {};
    if (record.user_id !== undefined) document.user.id = record.user_id;
    if (record.user_email !== undefined) document.user.email = record.user_email;
    if (record.user_name !== undefined) document.user.name = record.user_name;
  }
  if (record.user_agent !== undefined) document.user_agent = { original: record.user_agent };
  if (record.service !== undefined) document.service = { name: record.service };
  return document;
}
