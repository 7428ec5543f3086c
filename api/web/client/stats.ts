// The /stats answer, reduced to what the charts draw.

export interface StatsBucket {
  key: string;
  count: number;
}

export interface TimeBucket {
  /** Bucket start, epoch milliseconds. */
  time: number;
  counts: Record<string, number>;
}

export interface ChartData {
  total: number;
  intervalMs: number;
  overTime: TimeBucket[];
  topHosts: StatsBucket[];
  topCountries: StatsBucket[];
  topReasons: StatsBucket[];
}

type Json = Record<string, unknown>;

function buckets(value: unknown): StatsBucket[] {
  if (!Array.isArray(value)) return [];
  return value.map((b: Json) => ({ key: String(b.key ?? b.value ?? ''), count: Number(b.count ?? b.doc_count ?? 0) }));
}

export function chartData(stats: Json): ChartData {
  const overTime = Array.isArray(stats.over_time) ? stats.over_time : [];
  const series: TimeBucket[] = overTime.map((b: Json) => ({
    time: Date.parse(String(b.time ?? b.timestamp ?? b.key)),
    counts: (b.categories ?? b.counts ?? b) as Record<string, number>,
  }));
  const step = series.length > 1 ? series[1]!.time - series[0]!.time : 60_000;
  return {
    total: Number(stats.total ?? 0),
    intervalMs: Number(stats.interval_ms ?? step),
    overTime: series,
    topHosts: buckets(stats.top_hosts),
    topCountries: buckets(stats.top_countries),
    topReasons: buckets(stats.top_reasons),
  };
}
