// The query parameters of each endpoint: one table per endpoint, each entry a zod schema for one
// value and whether the parameter may repeat (any of its values). parseQuery validates a request's
// query against a table; openapi.ts documents the same tables.

import { z } from 'zod';
import { AUTH_METHODS, CATEGORIES } from '../../common/access-record.ts';
import { BadParameterError } from '../errors.ts';
import { addressOrCidr, countryCode, dateTime, integer, oneOf, statusCode, text } from './values.ts';

/** Most values one repeated parameter may carry. */
export const MAX_REPEATED_VALUES = 50;

export interface ParamSpec<S extends z.ZodType = z.ZodType, R extends boolean = boolean> {
  schema: S;
  repeated: R;
  /** Filters follow HTML forms: an empty value means the filter is not set. */
  emptyIsAbsent: boolean;
  description: string;
}

function one<S extends z.ZodType>(schema: S, description: string): ParamSpec<S, false> {
  return { schema, repeated: false, emptyIsAbsent: false, description };
}
function filter<S extends z.ZodType>(schema: S, description: string): ParamSpec<S, false> {
  return { schema, repeated: false, emptyIsAbsent: true, description };
}
function anyOf<S extends z.ZodType>(schema: S, description: string): ParamSpec<S, true> {
  return { schema, repeated: true, emptyIsAbsent: true, description: `${description} Repeat the parameter to match any of several values.` };
}

export const SORT_KEYS = [
  'timestamp', 'url', 'host', 'path', 'method', 'status_code', 'duration', 'source_ip', 'user_id', 'auth_method', 'reason',
] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type SortOrder = 'asc' | 'desc';

export const FILTER_PARAMS = {
  search: filter(text('free text'), 'Free text over the request id, source IP, host, path, user id and e-mail (substring, any case) and the reason (full text).'),
  start_date: filter(dateTime, 'Only requests at or after this RFC 3339 time.'),
  end_date: filter(dateTime, 'Only requests at or before this RFC 3339 time.'),
  status: anyOf(oneOf(['success', 'failed']), 'success: status 200-399; failed: any other status (as NetBird).'),
  category: anyOf(oneOf(CATEGORIES), 'allowed (1xx-3xx), denied (401, 403, 429), error (5xx), client_error (other 4xx).'),
  status_code: anyOf(statusCode, 'HTTP status code.'),
  method: anyOf(text('HTTP method'), 'HTTP method, any case.'),
  host: anyOf(text('host'), 'Host the request was made to, exactly (any case).'),
  path: anyOf(text('path substring'), 'Part of the URL path (substring, any case).'),
  source_ip: anyOf(addressOrCidr, "Client's IP address or a CIDR block containing it."),
  user_id: anyOf(text('user id'), 'Authenticated user id, exactly.'),
  user_email: anyOf(text('user e-mail substring'), "Part of the SSO user's e-mail (substring, any case)."),
  auth_method: anyOf(oneOf(AUTH_METHODS), 'Authentication method used or attempted.'),
  country_code: anyOf(countryCode, 'ISO 3166-1 alpha-2 country of the source IP.'),
  city: anyOf(text('city'), 'City of the source IP, exactly (any case).'),
  service_id: anyOf(text('service id'), 'Configured service id.'),
  reason: anyOf(text('reason words'), 'Words of the denial or failure reason (full text: every word must occur).'),
} as const;

const SORT_PARAMS = {
  sort_by: one(oneOf(SORT_KEYS).default('timestamp'), 'Field to sort by (url sorts by host, then path); ties are broken by request id.'),
  sort_order: one(oneOf(['asc', 'desc']).default('desc'), 'Sort order.'),
} as const;

export const MAX_PAGE_SIZE = 100;

export const LIST_PARAMS = {
  page: one(integer(1, 1_000_000), 'Page number, from 1 (offset paging, up to the first 10,000 records; use cursor beyond).'),
  page_size: one(integer(1, MAX_PAGE_SIZE), `Records per page, 1-${MAX_PAGE_SIZE} (default 50).`),
  ...SORT_PARAMS,
  cursor: one(text('cursor'), 'The next_cursor of a previous page with the same sort: the page after it (search_after).'),
  ...FILTER_PARAMS,
} as const;

export const STATS_PARAMS = {
  interval: one(
    z.string().regex(/^[1-9]\d{0,3}[smhd]$/, 'must be a number and a unit s, m, h or d, e.g. 5m'),
    'Width of the requests-over-time buckets (e.g. 1m, 1h, 1d); chosen from the time range when absent.',
  ),
  ...FILTER_PARAMS,
} as const;

export const EXPORT_PARAMS = {
  format: one(oneOf(['ndjson', 'csv']).default('ndjson'), 'ndjson (one JSON record a line) or csv (with a header row).'),
  ...SORT_PARAMS,
  ...FILTER_PARAMS,
} as const;

/** Insights analyse a time range only: the filters are theirs to choose (each finding carries them). */
export const INSIGHTS_PARAMS = {
  start_date: FILTER_PARAMS.start_date,
  end_date: FILTER_PARAMS.end_date,
} as const;

type Table = Record<string, ParamSpec>;
export type Parsed<T extends Table> = {
  [K in keyof T]: T[K] extends ParamSpec<infer S, true>
    ? z.output<S>[] | undefined
    : T[K]['schema'] extends z.ZodDefault ? z.output<T[K]['schema']> : z.output<T[K]['schema']> | undefined;
};

export type Filters = Parsed<typeof FILTER_PARAMS>;

/** Validates a request's query (Koa's `ctx.query`) against a table; throws BadParameterError. */
export function parseQuery<T extends Table>(table: T, query: Record<string, string | string[] | undefined>): Parsed<T> {
  for (const name of Object.keys(query)) {
    if (!Object.hasOwn(table, name)) throw new BadParameterError(name, 'unknown parameter');
  }
  const parsed: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table)) {
    const given = query[name];
    let values = given === undefined ? [] : Array.isArray(given) ? given : [given];
    if (spec.emptyIsAbsent) values = values.filter((value) => value !== '');
    if (!spec.repeated && values.length > 1) throw new BadParameterError(name, 'may be given only once');
    if (values.length > MAX_REPEATED_VALUES) throw new BadParameterError(name, `may be given at most ${MAX_REPEATED_VALUES} times`);
    const out = values.map((value) => {
      const result = spec.schema.safeParse(value);
      if (!result.success) throw new BadParameterError(name, result.error.issues[0]?.message ?? 'invalid value');
      return result.data;
    });
    if (spec.repeated) parsed[name] = out.length > 0 ? out : undefined;
    else parsed[name] = out.length > 0 ? out[0] : spec.schema.safeParse(undefined).data;
  }
  return parsed as Parsed<T>;
}
