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
