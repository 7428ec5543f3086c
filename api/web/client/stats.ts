// The /stats answer (api/routes/stats.ts), reduced to what the charts draw.

export interface StatsBucket {
  key: string;
  count: number;
  name?: string;
}

export interface TimeBucket {
  /** Bucket start, epoch milliseconds. */
  time: number;
  counts: Record<string, number>;
}

export interface StatsResponse {
  total_records: number;
  interval: string;
  requests_over_time: ({ timestamp: string; total: number } & Record<string, number | string>)[];
  top_hosts: StatsBucket[];
  top_countries: StatsBucket[];
  top_denial_reasons: StatsBucket[];
  duration_ms: { p50: number | null; p95: number | null };
}

export interface ChartData {
  intervalMs: number;
  overTime: TimeBucket[];
  topHosts: StatsBucket[];
  topCountries: StatsBucket[];
  topReasons: StatsBucket[];
  p50: number | null;
  p95: number | null;
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** How many entries each top list shows. */
const TOP_SHOWN = 6;

/** `5m` → 300000. */
export function intervalMs(interval: string): number {
  return Number(interval.slice(0, -1)) * (UNIT_MS[interval.at(-1) ?? ''] ?? 0);
}

export function chartData(stats: StatsResponse): ChartData {
  return {
    intervalMs: intervalMs(stats.interval),
    overTime: stats.requests_over_time.map(({ timestamp, total: _total, ...counts }) => ({
      time: Date.parse(timestamp),
      counts: counts as Record<string, number>,
    })),
    topHosts: stats.top_hosts.slice(0, TOP_SHOWN),
    topCountries: stats.top_countries.slice(0, TOP_SHOWN),
    topReasons: stats.top_denial_reasons.slice(0, TOP_SHOWN),
    p50: stats.duration_ms.p50,
    p95: stats.duration_ms.p95,
  };
}

/** Under this share of the view's range, the chart zooms to where the requests are. */
const FOCUS_SHARE = 0.25;

/**
 * The part of [startMs, endMs] that holds requests, with a margin, when it is under a quarter of
 * the range (fresh data in a 24-hour view, say); undefined when the requests fill the range or
 * there are none. Every request of the range lies inside it, so only the chart's buckets change.
 */
export function dataSpan(chart: ChartData, startMs: number, endMs: number): { start: number; end: number } | undefined {
  const busy = chart.overTime.filter((b) => Object.values(b.counts).some((n) => n > 0));
  if (busy.length === 0) return undefined;
  const first = Math.max(startMs, busy[0]!.time);
  const last = Math.min(endMs, busy.at(-1)!.time + chart.intervalMs);
  if (last - first >= (endMs - startMs) * FOCUS_SHARE) return undefined;
  const margin = Math.max((last - first) * 0.1, chart.intervalMs);
  return { start: Math.max(startMs, first - margin), end: Math.min(endMs, last + margin) };
}
