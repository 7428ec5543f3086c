// Brute force: one source IP with at least `min_denied` denied requests against one service in
// one window of `window_minutes` (tumbling, aligned to the epoch).

import { FIELD } from '../../../common/proxy-event-document.ts';
import type { InsightsConfig } from '../config.ts';
import { buckets, eventsQuery, MINUTE_MS, rangeFilters, SEEN_AGGS, seen, top, windowFilters, type DetectorContext } from '../context.ts';
import { findingId, iso, topValues, type Finding } from '../finding.ts';

/** Most sources, and services per source, reported per window. */
const MAX_KEYS = 100;

export async function bruteForce(context: DetectorContext, config: InsightsConfig['brute_force']): Promise<Finding[]> {
  const base = { category: 'denied' };
  const width = config.window_minutes * MINUTE_MS;
  const response = await context.store.search(
    {
      size: 0,
      query: eventsQuery({ ...base, ...rangeFilters(context.range) }),
      aggs: {
        windows: {
          date_histogram: { field: FIELD.timestamp, fixed_interval: `${config.window_minutes}m`, min_doc_count: config.min_denied },
          aggs: {
            sources: {
              terms: { field: FIELD.sourceIp, size: MAX_KEYS, min_doc_count: config.min_denied },
              aggs: {
                services: {
                  terms: { field: FIELD.serviceName, size: MAX_KEYS, min_doc_count: config.min_denied },
                  aggs: { ...SEEN_AGGS, reasons: top(FIELD.reason), paths: top(FIELD.path), users: top(FIELD.userId) },
                },
              },
            },
          },
        },
      },
    },
    context.signal,
  );
  return buckets(response.aggregations?.windows).flatMap((window) => {
    const windowStart = Number(window.key);
    const pairs = buckets(window.sources).flatMap((source) => buckets(source.services).map((pair) => ({ ip: String(source.key), service: String(pair.key), pair })));
    return pairs.map(({ ip, service, pair }): Finding => {
      return {
        id: findingId('brute_force', [ip, service], iso(windowStart)),
        detector: 'brute_force',
        severity: 'high',
        title: `${pair.doc_count} denied requests from ${ip} against ${service} within ${config.window_minutes} minutes`,
        ...seen(pair),
        count: pair.doc_count,
        evidence: {
          source_ip: ip,
          service_id: service,
          denied: pair.doc_count,
          threshold: config.min_denied,
          window_minutes: config.window_minutes,
          top_reasons: topValues(pair.reasons),
          top_paths: topValues(pair.paths),
          top_users: topValues(pair.users),
        },
        filters: { ...base, source_ip: ip, service_id: service, ...windowFilters(windowStart, width, context.range) },
      };
    });
  });
}
