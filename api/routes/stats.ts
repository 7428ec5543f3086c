// GET /api/events/proxy/stats: the monitoring aggregations over the same filters, in one search.

import type { estypes } from '@elastic/elasticsearch';
import { z } from 'zod';
import { CATEGORIES, type Category } from '../../common/access-record.ts';
import { FIELD, NANOSECONDS_PER_MILLISECOND } from '../../common/proxy-event-document.ts';
import { StorageRequestError } from '../../common/storage/storage.ts';
import { BadParameterError } from '../errors.ts';
import { totalHits, type EventSearchRequest, type EventStore } from '../event-store.ts';
import { filterQuery, timeRange } from '../query/filters.ts';
import { chooseInterval, intervalMillis } from '../query/interval.ts';
import type { Parsed, STATS_PARAMS } from '../query/params.ts';
import type { ServiceScope } from '../query/scope.ts';

export type StatsParams = Parsed<typeof STATS_PARAMS>;

const TOP = 10;
/** Candidates each shard (one a day) offers, so the top 10 across days is exact in practice. */
const SHARD_SIZE = 200;
const PERCENTS = [50, 90, 95, 99] as const;
/**
 * The duration percentiles come from an HDR histogram on both engines: each is the value at the
 * nearest rank to p% of the matches (Elasticsearch rounds that rank to the nearest, OpenSearch up)
 * to this many significant digits. The engines' default, t-digest, is an estimate each engine
 * computes with its own implementation, far enough apart to differ by several percent.
 */
export const DURATION_SIGNIFICANT_DIGITS = 3;

const countSchema = <K extends z.ZodType>(key: K) => z.object({ key, count: z.number().int() });

export const statsResponseSchema = z
  .object({
    total_records: z.number().int(),
    interval: z.string().meta({ description: 'Width of each requests_over_time bucket, e.g. 5m' }),
    requests_over_time: z.array(
      z.object({
        timestamp: z.string().meta({ format: 'date-time', description: 'Start of the bucket' }),
        total: z.number().int(),
        ...Object.fromEntries(CATEGORIES.map((c) => [c, z.number().int()])) as Record<Category, z.ZodNumber>,
      }),
    ),
    top_hosts: z.array(countSchema(z.string())),
    top_source_ips: z.array(countSchema(z.string())),
    top_countries: z.array(countSchema(z.string()).extend({ name: z.string().optional() })),
    top_denial_reasons: z.array(countSchema(z.string())),
    status_codes: z.array(countSchema(z.number().int())),
    auth_methods: z.array(countSchema(z.string())),
    duration_ms: z.object(Object.fromEntries(PERCENTS.map((p) => [`p${p}`, z.number().nullable()])) as Record<`p${(typeof PERCENTS)[number]}`, z.ZodNullable<z.ZodNumber>>),
  })
  .meta({ id: 'ProxyAccessStats' });

export type StatsResponse = z.infer<typeof statsResponseSchema>;

function top(field: string, size = TOP): estypes.AggregationsAggregationContainer {
  return { terms: { field, size, shard_size: Math.max(SHARD_SIZE, size) } };
}

interface Plan {
  request: EventSearchRequest;
  interval: string;
  /** The histogram's extended bounds, when the range is known. */
  bounds?: { min: number; max: number };
}

export function planStatsSearch(scope: ServiceScope, params: StatsParams, now = Date.now()): Plan {
  const { start, end } = timeRange(params);
  const interval = chooseInterval(params.interval, start, end ?? now);
  const histogram: estypes.AggregationsAggregationContainer = {
    date_histogram: { field: FIELD.timestamp, fixed_interval: interval, min_doc_count: 0 },
    aggs: { category: top(FIELD.category, CATEGORIES.length) },
  };
  // A start in the future (a clock ahead of ours) still makes a valid, empty range.
  const bounds = start === undefined ? undefined : { min: start, max: Math.max(start, end ?? now) };
  if (bounds) histogram.date_histogram!.extended_bounds = bounds;
  const request: EventSearchRequest = {
    size: 0,
    track_total_hits: true,
    query: filterQuery(scope, params),
    aggs: {
      over_time: histogram,
      hosts: top(FIELD.domain),
      source_ips: top(FIELD.sourceIp),
      countries: { ...top(FIELD.countryCode), aggs: { name: top(FIELD.countryName, 1) } },
      denied: { filter: { term: { [FIELD.category]: 'denied' } }, aggs: { reasons: top(FIELD.reason) } },
      status_codes: top(FIELD.statusCode, 100),
      auth_methods: top(FIELD.authMethod),
      duration: { percentiles: { field: FIELD.eventDuration, percents: [...PERCENTS], hdr: { number_of_significant_value_digits: DURATION_SIGNIFICANT_DIGITS } } },
    },
  };
  return { request, interval, bounds };
}

/**
 * What the aggregations are over no index at all (nothing shipped yet), where Elasticsearch
 * answers without any: empty lists, and empty buckets over the range as a date_histogram makes them.
 */
function noAggregations(interval: string, bounds: Plan['bounds']): Record<string, unknown> {
  const empty = { buckets: [] };
  const buckets = [];
  if (bounds) {
    const width = intervalMillis(interval);
    for (let key = Math.floor(bounds.min / width) * width; key <= bounds.max; key += width) buckets.push({ key, doc_count: 0, category: empty });
  }
  return {
    over_time: { buckets },
    hosts: empty,
    source_ips: empty,
    countries: empty,
    denied: { reasons: empty },
    status_codes: empty,
    auth_methods: empty,
    duration: { values: Object.fromEntries(PERCENTS.map((p) => [`${p}.0`, null])) },
  };
}

interface Bucket {
  key: string | number;
  key_as_string?: string;
  doc_count: number;
  [sub: string]: unknown;
}
type Buckets = { buckets: Bucket[] };

const counts = (agg: unknown) => (agg as Buckets).buckets.map((b) => ({ key: b.key_as_string ?? String(b.key), count: b.doc_count }));

function isTooManyBuckets(error: unknown): boolean {
  return error instanceof StorageRequestError && JSON.stringify(error.body ?? '').includes('too_many_buckets_exception');
}

export async function eventStats(store: EventStore, scope: ServiceScope, params: StatsParams, signal?: AbortSignal): Promise<StatsResponse> {
  const { request, interval, bounds } = planStatsSearch(scope, params);
  const response = await store.search(request, signal).catch((error: unknown) => {
    if (isTooManyBuckets(error)) throw new BadParameterError('interval', 'makes too many buckets for the data; choose a wider interval or give start_date');
    throw error;
  });
  const aggs = (response.aggregations ?? noAggregations(interval, bounds)) as Record<string, unknown>;
  const total = totalHits(response);
  const percentiles = (aggs.duration as { values: Record<string, number | null> }).values;
  return {
    total_records: total,
    interval,
    requests_over_time: (aggs.over_time as Buckets).buckets.map((bucket) => {
      const row = { timestamp: new Date(Number(bucket.key)).toISOString(), total: bucket.doc_count } as StatsResponse['requests_over_time'][number];
      for (const category of CATEGORIES) row[category] = 0;
      for (const sub of (bucket.category as Buckets).buckets) row[sub.key as Category] = sub.doc_count;
      return row;
    }),
    top_hosts: counts(aggs.hosts),
    top_source_ips: counts(aggs.source_ips),
    top_countries: (aggs.countries as Buckets).buckets.map((b) => {
      const name = (b.name as Buckets).buckets[0]?.key;
      return name === undefined ? { key: String(b.key), count: b.doc_count } : { key: String(b.key), name: String(name), count: b.doc_count };
    }),
    top_denial_reasons: counts((aggs.denied as { reasons: unknown }).reasons),
    status_codes: (aggs.status_codes as Buckets).buckets.map((b) => ({ key: Number(b.key), count: b.doc_count })),
    auth_methods: counts(aggs.auth_methods),
    duration_ms: Object.fromEntries(
      PERCENTS.map((p) => {
        const value = percentiles[`${p}.0`];
        return [`p${p}`, value === null || value === undefined ? null : Math.round((value / NANOSECONDS_PER_MILLISECOND) * 1000) / 1000];
      }),
    ) as StatsResponse['duration_ms'],
  };
}
