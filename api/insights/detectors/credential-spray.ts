// Credential stuffing and spraying, in one window of `window_minutes`: one source IP denied on at
// least `min_targets` different services or user ids, or one service denying at least
// `min_sources` different source IPs. The candidates come ordered by their distinct count; the
// threshold is applied to the aggregation's buckets here (the node may lack the scripting module
// a bucket_selector needs).

import type { estypes } from '@elastic/elasticsearch';
import { FIELD } from '../../../common/proxy-event-document.ts';
import type { InsightsConfig } from '../config.ts';
import { buckets, eventsQuery, MINUTE_MS, rangeFilters, SEEN_AGGS, seen, top, windowFilters, type Bucket, type DetectorContext } from '../context.ts';
import { findingId, iso, topValues, type Finding } from '../finding.ts';

/** Most sources (or services) reported per window. */
const MAX_KEYS = 100;
/** Counts of distinct values are exact below this (Elasticsearch's cardinality precision). */
const PRECISION = 1_000;

function distinct(field: string): estypes.AggregationsAggregationContainer {
  return { cardinality: { field, precision_threshold: PRECISION } };
}

export async function credentialSpray(context: DetectorContext, config: InsightsConfig['credential_spray']): Promise<Finding[]> {
  const base = { category: 'denied' };
  const width = config.window_minutes * MINUTE_MS;
  const minimum = Math.min(config.min_targets, config.min_sources);
  const response = await context.store.search(
    {
      size: 0,
      query: eventsQuery({ ...base, ...rangeFilters(context.range) }),
      aggs: {
        windows: {
          date_histogram: { field: FIELD.timestamp, fixed_interval: `${config.window_minutes}m`, min_doc_count: minimum },
          aggs: {
            sources: {
              terms: { field: FIELD.sourceIp, size: MAX_KEYS, min_doc_count: config.min_targets, order: { services: 'desc' } },
              aggs: {
                ...SEEN_AGGS,
                services: distinct(FIELD.serviceName),
                users: distinct(FIELD.userId),
                top_services: top(FIELD.serviceName, 10),
                top_users: top(FIELD.userId, 10),
              },
            },
            services: {
              terms: { field: FIELD.serviceName, size: MAX_KEYS, min_doc_count: config.min_sources, order: { sources: 'desc' } },
              aggs: {
                ...SEEN_AGGS,
                sources: distinct(FIELD.sourceIp),
                top_sources: top(FIELD.sourceIp, 10),
                top_countries: top(FIELD.countryCode),
              },
            },
          },
        },
      },
    },
    context.signal,
  );
  const evidenceBase = { window_minutes: config.window_minutes };
  return buckets(response.aggregations?.windows).flatMap((window) => {
    const windowStart = Number(window.key);
    const filters = windowFilters(windowStart, width, context.range);
    const manyTargets = (source: Bucket) => source.services.value >= config.min_targets || source.users.value >= config.min_targets;
    const fromOneSource = buckets(window.sources).filter(manyTargets).map((source: Bucket): Finding => {
      const ip = String(source.key);
      const services = source.services.value as number;
      const users = source.users.value as number;
      const targets = services >= users ? `${services} services` : `${users} user ids`;
      return {
        id: findingId('credential_spray', ['source', ip], iso(windowStart)),
        detector: 'credential_spray',
        severity: 'high',
        title: `${ip} was denied on ${targets} within ${config.window_minutes} minutes`,
        ...seen(source),
        count: source.doc_count,
        evidence: {
          ...evidenceBase,
          kind: 'one_source_many_targets',
          source_ip: ip,
          denied: source.doc_count,
          distinct_services: services,
          distinct_users: users,
          threshold: config.min_targets,
          top_services: topValues(source.top_services),
          top_users: topValues(source.top_users),
        },
        filters: { ...base, source_ip: ip, ...filters },
      };
    });
    const againstOneService = buckets(window.services).filter((service) => service.sources.value >= config.min_sources).map((service: Bucket): Finding => {
      const id = String(service.key);
      const sources = service.sources.value as number;
      return {
        id: findingId('credential_spray', ['service', id], iso(windowStart)),
        detector: 'credential_spray',
        severity: 'high',
        title: `${sources} source IPs were denied on ${id} within ${config.window_minutes} minutes`,
        ...seen(service),
        count: service.doc_count,
        evidence: {
          ...evidenceBase,
          kind: 'many_sources_one_service',
          service_id: id,
          denied: service.doc_count,
          distinct_sources: sources,
          threshold: config.min_sources,
          top_sources: topValues(service.top_sources),
          top_countries: topValues(service.top_countries),
        },
        filters: { ...base, service_id: id, ...filters },
      };
    });
    return [...fromOneSource, ...againstOneService];
  });
}
