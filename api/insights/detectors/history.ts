// What new_country and first_access share: pairs (a user and a country, a service and a user)
// counted before the range (within the history) and within it, one composite aggregation page
// at a time. A pair is new when it has events within the range and none in the history before.

import type { estypes } from '@elastic/elasticsearch';
import { before, compositeBuckets, DAY_MS, eventsQuery, rangeFilters, SEEN_AGGS, since, type Bucket, type DetectorContext, type FindingFilters } from '../context.ts';

export interface Pair {
  /** The pair's values, in the order of `sources`. */
  key: string[];
  history: number;
  /** The bucket of events within the range, with first, last and the given sub-aggregations. */
  within: Bucket;
}

export async function historyPairs(
  context: DetectorContext,
  historyDays: number,
  base: FindingFilters,
  sources: Record<string, string>,
  aggs: Record<string, estypes.AggregationsAggregationContainer>,
): Promise<Pair[]> {
  const { start, end } = context.range;
  const query = eventsQuery({ ...base, ...rangeFilters({ start: start - historyDays * DAY_MS, end }) });
  const pairs: Pair[] = [];
  const names = Object.keys(sources);
  for await (const bucket of compositeBuckets(context, query, sources, {
    history: { filter: before(start) },
    within: { filter: since(start), aggs: { ...SEEN_AGGS, ...aggs } },
  })) {
    const key = bucket.key as Record<string, unknown>;
    pairs.push({ key: names.map((name) => String(key[name])), history: bucket.history.doc_count, within: bucket.within });
  }
  return pairs;
}
