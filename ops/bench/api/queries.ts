// The typical queries the API benchmark times, each as API query parameters. The same parameters
// give the Elasticsearch request the API would send (planListSearch / planStatsSearch), which the
// benchmark also sends directly.

import { LIST_PARAMS, STATS_PARAMS, parseQuery } from '../../../api/query/params.ts';
import { ServiceScope } from '../../../api/query/scope.ts';
import { planListSearch } from '../../../api/routes/list.ts';
import { planStatsSearch } from '../../../api/routes/stats.ts';
import type { EventSearchRequest } from '../../../api/event-store.ts';

export interface BenchQuery {
  name: string;
  path: string;
  params: Record<string, string>;
  /** The request the API sends to Elasticsearch for these parameters. */
  request: EventSearchRequest;
}

const HOUR_MS = 3_600_000;
/** The benchmark's token sees every service. */
const EVERY_SERVICE = new ServiceScope(undefined);

function listQuery(name: string, params: Record<string, string>): BenchQuery {
  return { name, path: '/api/events/proxy', params, request: planListSearch(EVERY_SERVICE, parseQuery(LIST_PARAMS, params)).request };
}

function statsQuery(name: string, now: number): BenchQuery {
  const params = { start_date: iso(now - 7 * 24 * HOUR_MS), end_date: iso(now) };
  return { name, path: '/api/events/proxy/stats', params, request: planStatsSearch(EVERY_SERVICE, parseQuery(STATS_PARAMS, params), now).request };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The latency comparison: typical searches one at a time. */
export function benchQueries(now: number, deepCursor: string, deepRecords: number): BenchQuery[] {
  return [
    listQuery('last hour', { start_date: iso(now - HOUR_MS), end_date: iso(now) }),
    listQuery('denied only', { category: 'denied' }),
    listQuery('by host', { host: 'wiki.example.com' }),
    listQuery('reason text', { reason: 'invalid password' }),
    listQuery(`deep cursor page (record ${deepRecords.toLocaleString('en')})`, { cursor: deepCursor }),
    statsQuery('stats over 7 days', now),
  ];
}

/** The load levels: what a team's search page, a dashboard and a script send at once. */
export function loadQueries(now: number, deepCursor: string, deepRecords: number): BenchQuery[] {
  return [
    listQuery('list (page_size=50)', { page_size: '50' }),
    statsQuery('stats over 7 days', now),
    listQuery('search=login', { search: 'login' }),
    listQuery(`deep cursor page (record ${deepRecords.toLocaleString('en')})`, { cursor: deepCursor }),
  ];
}

export function percentile(sortedMs: number[], p: number): number {
  const rank = Math.ceil((p / 100) * sortedMs.length) - 1;
  return sortedMs[Math.min(Math.max(rank, 0), sortedMs.length - 1)]!;
}
