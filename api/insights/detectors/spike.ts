// Denial and error spikes: a service whose denied (or 5xx) requests in one bucket of
// `bucket_minutes` are far above its own baseline. The baseline is the service's mean count per
// bucket over the `baseline_days` before the range (or since its first event, when it is younger);
// a bucket alarms when its count is at least `min_count` and at least the Poisson upper bound: the
// smallest k with P(X ≥ k) < `p_value` for X ~ Poisson(mean).

import { FIELD } from '../../../common/proxy-event-document.ts';
import type { SpikeConfig } from '../config.ts';
import { before, buckets, DAY_MS, eventsQuery, MINUTE_MS, rangeFilters, SEEN_AGGS, seen, since, top, windowFilters, type DetectorContext } from '../context.ts';
import { findingId, iso, topValues, type Finding } from '../finding.ts';

/** More services than any one proxy serves. */
const MAX_SERVICES = 1_000;

/** The smallest k with P(X ≥ k) < pValue for X ~ Poisson(mean). */
export function poissonUpperBound(mean: number, pValue: number): number {
  if (mean <= 0) return 1;
  // P(X ≥ k) = 1 − Σ_{i<k} P(X = i); the terms are built in log space so a large mean cannot underflow.
  let logTerm = -mean;
  let below = 0;
  for (let k = 0; ; k++) {
    if (1 - below < pValue) return k;
    below += Math.exp(logTerm);
    logTerm += Math.log(mean) - Math.log(k + 1);
    if (k > mean * 10 + 1_000) return k;
  }
}

export const SPIKE_CATEGORY = { error_spike: 'error', denial_spike: 'denied' } as const;
type SpikeDetector = keyof typeof SPIKE_CATEGORY;

export async function spike(context: DetectorContext, detector: SpikeDetector, config: SpikeConfig): Promise<Finding[]> {
  const category = SPIKE_CATEGORY[detector];
  const width = config.bucket_minutes * MINUTE_MS;
  const { start } = context.range;
  const baselineStart = start - config.baseline_days * DAY_MS;
  const response = await context.store.search(
    {
      size: 0,
      query: eventsQuery(rangeFilters({ start: baselineStart, end: context.range.end })),
      aggs: {
        services: {
          terms: { field: FIELD.serviceName, size: MAX_SERVICES },
          aggs: {
            first: { min: { field: FIELD.timestamp } },
            baseline: { filter: { bool: { filter: [before(start), { term: { [FIELD.category]: category } }] } } },
            within: {
              filter: { bool: { filter: [since(start), { term: { [FIELD.category]: category } }] } },
              aggs: {
                windows: {
                  date_histogram: { field: FIELD.timestamp, fixed_interval: `${config.bucket_minutes}m`, min_doc_count: config.min_count },
                  aggs: { ...SEEN_AGGS, reasons: top(FIELD.reason), status_codes: top(FIELD.statusCode), sources: top(FIELD.sourceIp) },
                },
              },
            },
          },
        },
      },
    },
    context.signal,
  );
  const noun = category === 'error' ? '5xx responses' : 'denied requests';
  return buckets(response.aggregations?.services).flatMap((service) => {
    const id = String(service.key);
    // A service younger than the baseline period is measured since its first event (whole buckets, at least one).
    const observedSince = Math.max(baselineStart, service.first.value as number);
    const baselineBuckets = Math.max(1, Math.floor((start - observedSince) / width));
    const mean = service.baseline.doc_count / baselineBuckets;
    const bound = Math.max(config.min_count, poissonUpperBound(mean, config.p_value));
    return buckets(service.within.windows)
      .filter((window) => window.doc_count >= bound)
      .map((window): Finding => {
        const windowStart = Number(window.key);
        return {
          id: findingId(detector, [id], iso(windowStart)),
          detector,
          severity: 'medium',
          title: `${window.doc_count} ${noun} on ${id} within ${config.bucket_minutes} minutes; usually ${mean.toFixed(1)}`,
          ...seen(window),
          count: window.doc_count,
          evidence: {
            service_id: id,
            count: window.doc_count,
            baseline_mean: Math.round(mean * 1000) / 1000,
            baseline_buckets: baselineBuckets,
            upper_bound: bound,
            p_value: config.p_value,
            min_count: config.min_count,
            bucket_minutes: config.bucket_minutes,
            top_reasons: topValues(window.reasons),
            status_codes: topValues(window.status_codes),
            top_source_ips: topValues(window.sources),
          },
          filters: { category, service_id: id, ...windowFilters(windowStart, width, context.range) },
        };
      });
  });
}
