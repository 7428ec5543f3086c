// GET /api/events/proxy/insights: the findings of every detector over a time range, sorted by
// severity. The range is start_date..end_date as for the events (same parsing, same 400s); without
// start_date it is the configured default_range_hours before end_date, without end_date it ends now.

import Router from '@koa/router';
import type { EventStore } from '../event-store.ts';
import type { InsightsConfig } from '../insights/config.ts';
import type { Range } from '../insights/context.ts';
import { detect } from '../insights/detect.ts';
import type { InsightsResponse } from '../insights/finding.ts';
import type { RequestState } from '../middleware/errors.ts';
import { timeRange } from '../query/filters.ts';
import { INSIGHTS_PARAMS, parseQuery, type Parsed } from '../query/params.ts';

const HOUR_MS = 3_600_000;

export function insightsRange(params: Parsed<typeof INSIGHTS_PARAMS>, defaultHours: number, now = Date.now()): Range {
  const { start, end } = timeRange(params);
  const until = end ?? Math.max(now, start ?? now);
  return { start: start ?? until - defaultHours * HOUR_MS, end: until };
}

export function insightsRouter(store: EventStore, config: InsightsConfig): Router {
  const router = new Router({ prefix: '/api' });
  router.get('/events/proxy/insights', async (ctx) => {
    const range = insightsRange(parseQuery(INSIGHTS_PARAMS, ctx.query), config.default_range_hours);
    const data = await detect(store, config, range, (ctx.state as RequestState).clientGone);
    ctx.body = { data, total_count: data.length } satisfies InsightsResponse;
  });
  return router;
}
