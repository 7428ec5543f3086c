// GET /api/events/proxy: NetBird's list of proxy access logs, with our extra filters and a cursor.

import { z } from 'zod';
import { BadParameterError } from '../errors.ts';
import { totalHits, type EventSearchRequest, type EventStore } from '../event-store.ts';
import { proxyAccessLogSchema, RECORD_SOURCE_EXCLUDES, toRecord } from '../events/record.ts';
import { filterQuery } from '../query/filters.ts';
import type { ServiceScope } from '../query/scope.ts';
import { LIST_PARAMS, type Parsed } from '../query/params.ts';
import { decodeCursor, encodeCursor, sortClause } from '../query/sort.ts';

export const DEFAULT_PAGE_SIZE = 50;
/** Elasticsearch's default index.max_result_window: offset paging cannot reach past it. */
export const MAX_OFFSET_WINDOW = 10_000;

export type ListParams = Parsed<typeof LIST_PARAMS>;

/** One offset page of `item`s, as the list and the audit endpoints answer it. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    data: z.array(item),
    page: z.number().int(),
    page_size: z.number().int(),
    total_records: z.number().int(),
    total_pages: z.number().int(),
  });
}

export const listResponseSchema = pageSchema(proxyAccessLogSchema)
  .extend({
    next_cursor: z.string().nullable().meta({ description: 'Pass as cursor for the next page (same sort); null on the last page' }),
  })
  .meta({ id: 'ProxyAccessLogsResponse' });

export type ListResponse = z.infer<typeof listResponseSchema>;

/** Records before `page` (default 1); a 400 past Elasticsearch's offset window. */
export function pageOffset(page = 1, pageSize: number, beyond = ''): number {
  const from = (page - 1) * pageSize;
  if (from + pageSize > MAX_OFFSET_WINDOW) throw new BadParameterError('page', `offset paging reaches the first ${MAX_OFFSET_WINDOW} records${beyond}`);
  return from;
}

interface PlannedSearch {
  request: EventSearchRequest;
  /** Records before this page. */
  skipped: number;
  pageSize: number;
}

/** The Elasticsearch search a list request makes: the bench sends the same body directly. */
export function planListSearch(scope: ServiceScope, params: ListParams): PlannedSearch {
  const pageSize = params.page_size ?? DEFAULT_PAGE_SIZE;
  const request: EventSearchRequest = {
    query: filterQuery(scope, params),
    sort: sortClause(params.sort_by, params.sort_order),
    size: pageSize,
    track_total_hits: true,
    _source: { excludes: RECORD_SOURCE_EXCLUDES },
  };
  if (params.cursor !== undefined) {
    if (params.page !== undefined) throw new BadParameterError('page', 'cannot be combined with cursor (the cursor knows its page)');
    const cursor = decodeCursor(params.cursor, params.sort_by, params.sort_order);
    request.search_after = cursor.after;
    return { request, skipped: cursor.seen, pageSize };
  }
  const from = pageOffset(params.page, pageSize, '; follow next_cursor beyond');
  request.from = from;
  return { request, skipped: from, pageSize };
}

export async function listEvents(store: EventStore, scope: ServiceScope, params: ListParams, signal?: AbortSignal): Promise<ListResponse> {
  const { request, skipped, pageSize } = planListSearch(scope, params);
  const response = await store.search(request, signal);
  const hits = response.hits.hits;
  const total = totalHits(response);
  const seen = skipped + hits.length;
  const last = hits.at(-1);
  const more = hits.length === pageSize && seen < total && last?.sort !== undefined;
  return {
    data: hits.map((hit) => toRecord(hit._source!)),
    page: Math.floor(skipped / pageSize) + 1,
    page_size: pageSize,
    total_records: total,
    total_pages: Math.ceil(total / pageSize),
    next_cursor: more
      ? encodeCursor({ sortBy: params.sort_by, sortOrder: params.sort_order, after: last!.sort!, seen })
      : null,
  };
}
