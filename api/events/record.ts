// The API's record: NetBird's ProxyAccessLog fields (same names, same optional ones) plus a few of
// ours, read from an indexed document. The zod schema documents it in openapi.json and lets
// tests check responses against the contract.

import { z } from 'zod';
import { AUTH_METHODS, CATEGORIES, PROTOCOLS, categoryOf } from '../../common/access-record.ts';
import { FIELD, NANOSECONDS_PER_MILLISECOND, type ProxyEventDocument } from '../../common/proxy-event-document.ts';

export const proxyAccessLogSchema = z
  .object({
    id: z.string().meta({ description: 'Unique request id' }),
    service_id: z.string().meta({ description: 'Configured service id; empty when no service matched the host' }),
    timestamp: z.string().meta({ format: 'date-time', description: 'When the request arrived (UTC)' }),
    method: z.string(),
    host: z.string(),
    path: z.string().meta({ description: 'URL path, without the query string' }),
    duration_ms: z.number().int().meta({ description: 'Milliseconds from arrival to the last byte sent, rounded' }),
    status_code: z.number().int(),
    bytes_upload: z.number().int().meta({ description: 'Request body bytes' }),
    bytes_download: z.number().int().meta({ description: 'Response body bytes' }),
    source_ip: z.string(),
    reason: z.string().optional().meta({ description: 'Why the request was denied or failed' }),
    user_id: z.string().optional(),
    auth_method_used: z.enum(AUTH_METHODS),
    country_code: z.string().optional(),
    city_name: z.string().optional(),
    subdivision_code: z.string().optional().meta({ description: 'ISO 3166-2 subdivision, without the country, e.g. CA' }),
    protocol: z.enum(PROTOCOLS),
    category: z.enum(CATEGORIES).meta({ description: 'allowed, denied, error or client_error (from the status)' }),
    user_email: z.string().optional(),
    user_name: z.string().optional().meta({ description: "The SSO user's name (the ID token's name, else preferred_username)" }),
    country_name: z.string().optional(),
    user_agent: z.string().optional(),
    proxy_id: z.string().meta({ description: 'The proxy instance that handled the request' }),
  })
  .meta({ id: 'ProxyAccessLog' });

export type ProxyAccessLog = z.infer<typeof proxyAccessLogSchema>;

/** The columns of a CSV export, in this order. */
export const RECORD_COLUMNS = Object.keys(proxyAccessLogSchema.shape) as (keyof ProxyAccessLog)[];

/**
 * What a search that reads records leaves out of `_source`: the trail's fields, which no record
 * shows. The line's original text alone is about as long as the rest of the document.
 */
export const RECORD_SOURCE_EXCLUDES = [FIELD.eventOriginal, FIELD.eventHash, FIELD.eventSequence];

type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/**
 * The record of a stored document. Read defensively: a document in our indices that is not the
 * shipper's (written by hand, or by another tool) must not turn a whole page into a 500.
 */
export function toRecord(document: DeepPartial<ProxyEventDocument>): ProxyAccessLog {
  const geo = document.source?.geo;
  const region = geo?.region_iso_code;
  return {
    id: document.event?.id ?? '',
    service_id: document.service?.name ?? '',
    timestamp: document['@timestamp'] ?? '',
    method: document.http?.request?.method ?? '',
    host: document.url?.domain ?? '',
    path: document.url?.path ?? '',
    duration_ms: Math.round((document.event?.duration ?? 0) / NANOSECONDS_PER_MILLISECOND),
    status_code: document.http?.response?.status_code ?? 0,
    bytes_upload: document.http?.request?.body?.bytes ?? 0,
    bytes_download: document.http?.response?.body?.bytes ?? 0,
    source_ip: document.source?.ip ?? '',
    reason: document.event?.reason,
    user_id: document.user?.id,
    auth_method_used: document.proxy_access?.auth_method ?? 'none',
    country_code: geo?.country_iso_code,
    city_name: geo?.city_name,
    subdivision_code: region === undefined ? undefined : region.slice(region.indexOf('-') + 1),
    protocol: document.url?.scheme ?? 'http',
    category: document.proxy_access?.category ?? categoryOf(document.http?.response?.status_code ?? 500),
    user_email: document.user?.email,
    user_name: document.user?.name,
    country_name: geo?.country_name,
    user_agent: document.user_agent?.original,
    proxy_id: document.observer?.name ?? '',
  };
}
