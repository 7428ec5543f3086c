// The typical queries the API benchmark times, each as API query parameters. The same parameters
// give the Elasticsearch request the API would send (planListSearch / planStatsSearch), which the
// benchmark also sends directly.

import { LIST_PARAMS, STATS_PARAMS, parseQuery } from '../../../api/query/params.ts';
import { planListSearch } from '../../../api/routes/list.ts';
import { planStatsSearch } from '../../../api/routes/stats.ts';
import type { estypes } from '@elastic/elasticsearch';

export interface BenchQuery {
  name: string;
  path: string;
  params: Record<string, string>;
  /** The request the API sends to Elasticsearch for these parameters. */
  request: estypes.SearchRequest;
}

const HOUR_MS = 3_600_000;

export function benchQueries(now: number, deepCursor: string): BenchQuery[] {
  const iso = (ms: number) => new Date(ms).toISOString();
  const list = (name: string, params: Record<string, string>): BenchQuery => ({
    name,
    path: '/api/events/proxy',
    params,
    request: planListSearch(parseQuery(LIST_PARAMS, params)).request,
  });
  const statsParams = { start_date: iso(now - 7 * 24 * HOUR_MS), end_date: iso(now) };
  return [
    list('last hour', { start_date: iso(now - HOUR_MS), end_date: iso(now) }),
    list('denied only', { category: 'denied' }),
    list('by host', { host: 'wiki.example.com' }),
    list('reason text', { reason: 'invalid password' }),
    list('deep cursor page (record 50,000)', { cursor: deepCursor }),
    {
      name: 'stats over 7 days',
      path: '/api/events/proxy/stats',
      params: statsParams,
      request: planStatsSearch(parseQuery(STATS_PARAMS, statsParams), now).request,
    },
  ];
}

export function percentile(sortedMs: number[], p: number): number {
  const rank = Math.ceil((p / 100) * sortedMs.length) - 1;
  return sortedMs[Math.min(Math.max(rank, 0), sortedMs.length - 1)]!;
}
