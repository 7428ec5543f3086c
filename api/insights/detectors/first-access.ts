// First access: a user id allowed into a service within the range with no allowed request to that
// service in the `history_days` before it, on a service that had users in that history (on a
// service seen for the first time, or right after installation, every user would be new).

import { FIELD } from '../../../common/proxy-event-document.ts';
import type { InsightsConfig } from '../config.ts';
import { rangeFilters, seen, top, type DetectorContext } from '../context.ts';
import { findingId, topValues, type Finding } from '../finding.ts';
import { historyPairs } from './history.ts';

export async function firstAccess(context: DetectorContext, config: InsightsConfig['first_access']): Promise<Finding[]> {
  const base = { category: 'allowed' };
  const pairs = await historyPairs(
    context,
    config.history_days,
    base,
    { service: FIELD.serviceName, user: FIELD.userId },
    { ips: top(FIELD.sourceIp), countries: top(FIELD.countryCode), paths: top(FIELD.path) },
  );
  const knownUsers = new Map<string, number>();
  for (const { key: [service], history } of pairs) {
    if (history > 0) knownUsers.set(service!, (knownUsers.get(service!) ?? 0) + 1);
  }
  return pairs
    .filter(({ key: [service], history, within }) => history === 0 && within.doc_count > 0 && knownUsers.has(service!))
    .map(({ key: [service, user], within }): Finding => {
      const first = seen(within);
      return {
        id: findingId('first_access', [service!, user!], first.first_seen),
        detector: 'first_access',
        severity: 'low',
        title: `${user} used ${service} for the first time in ${config.history_days} days`,
        ...first,
        count: within.doc_count,
        evidence: {
          user_id: user,
          service_id: service,
          users_in_history: knownUsers.get(service!),
          history_days: config.history_days,
          top_source_ips: topValues(within.ips),
          top_countries: topValues(within.countries),
          top_paths: topValues(within.paths),
        },
        filters: { ...base, user_id: user!, service_id: service!, ...rangeFilters(context.range) },
      };
    });
}
