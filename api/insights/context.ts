// What the detectors share: the range analysed, and the one way they build a query. Every query
// goes through the events endpoint's parser and filter builder (parseQuery, filterQuery) from the
// same string filters a finding carries, so a finding's `filters` select what its query counted.

import type { estypes } from '@elastic/elasticsearch';
import { FIELD } from '../../common/proxy-event-document.ts';
import type { EventStore } from '../event-store.ts';
import { filterQuery } from '../query/filters.ts';
import { FILTER_PARAMS, parseQuery } from '../query/params.ts';
import { iso } from './finding.ts';

export type FindingFilters = Record<string, string | string[]>;

/** Epoch milliseconds, both inclusive (as start_date and end_date are). */
export interface Range {
  start: number;
  end: number;
}

export interface DetectorContext {
  store: EventStore;
  range: Range;
  signal?: AbortSignal;
}

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

export function rangeFilters(range: Range): FindingFilters {
  return { start_date: iso(range.start), end_date: iso(range.end) };
}

/** The filters of a window [start, start + width) as far as it lies within the range. */
export function windowFilters(windowStart: number, widthMs: number, range: Range): FindingFilters {
  return rangeFilters({ start: Math.max(windowStart, range.start), end: Math.min(windowStart + widthMs - 1, range.end) });
}

/** The Elasticsearch query for a filter set, exactly as GET /api/events/proxy builds it. */
export function eventsQuery(filters: FindingFilters): estypes.QueryDslQueryContainer {
  return filterQuery(parseQuery(FILTER_PARAMS, filters));
}

export function before(millis: number): estypes.QueryDslQueryContainer {
  return { range: { [FIELD.timestamp]: { lt: millis, format: 'epoch_millis' } } };
}

export function since(millis: number): estypes.QueryDslQueryContainer {
  return { range: { [FIELD.timestamp]: { gte: millis, format: 'epoch_millis' } } };
}

/** First and last event of a bucket, for first_seen and last_seen. */
export const SEEN_AGGS: Record<string, estypes.AggregationsAggregationContainer> = {
  first: { min: { field: FIELD.timestamp } },
  last: { max: { field: FIELD.timestamp } },
};

export interface Bucket {
  key: unknown;
  key_as_string?: string;
  doc_count: number;
  [sub: string]: any;
}

export function buckets(agg: unknown): Bucket[] {
  return (agg as { buckets?: Bucket[] } | undefined)?.buckets ?? [];
}

export function seen(bucket: Bucket): { first_seen: string; last_seen: string } {
  return { first_seen: iso(bucket.first.value), last_seen: iso(bucket.last.value) };
}

export function top(field: string, size = 5): estypes.AggregationsAggregationContainer {
  return { terms: { field, size } };
}

/** Pages through a composite aggregation, `size` buckets a request. */
export async function* compositeBuckets(
  context: DetectorContext,
  query: estypes.QueryDslQueryContainer,
  sources: Record<string, string>,
  aggs: Record<string, estypes.AggregationsAggregationContainer>,
  size = 1_000,
): AsyncGenerator<Bucket> {
  let after: Record<string, estypes.FieldValue> | undefined;
  for (;;) {
    const response = await context.store.search(
      {
        size: 0,
        query,
        aggs: {
          pairs: {
            composite: { size, sources: Object.entries(sources).map(([name, field]) => ({ [name]: { terms: { field } } })), after },
            aggs,
          },
        },
      },
      context.signal,
    );
    const pairs = response.aggregations?.pairs as { buckets: Bucket[]; after_key?: Record<string, estypes.FieldValue> } | undefined;
    if (!pairs) return;
    yield* pairs.buckets;
    if (pairs.buckets.length < size || !pairs.after_key) return;
    after = pairs.after_key;
  }
}
