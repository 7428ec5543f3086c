// New location: a user id seen from a country within the range that it was not seen from in the
// `history_days` before it, while it was seen from somewhere in that history (a user new to
// everything has no usual location to differ from).

import { FIELD } from '../../../common/proxy-event-document.ts';
import type { InsightsConfig } from '../config.ts';
import { rangeFilters, seen, top, type DetectorContext } from '../context.ts';
import { findingId, topValues, type Finding } from '../finding.ts';
import { historyPairs } from './history.ts';

export async function newCountry(context: DetectorContext, config: InsightsConfig['new_country']): Promise<Finding[]> {
  const pairs = await historyPairs(
    context,
    config.history_days,
    {},
    { user: FIELD.userId, country: FIELD.countryCode },
    { name: top(FIELD.countryName, 1), ips: top(FIELD.sourceIp), services: top(FIELD.serviceName), categories: top(FIELD.category) },
  );
  const usual = new Map<string, string[]>();
  for (const { key: [user, country], history } of pairs) {
    if (history > 0) usual.set(user!, [...(usual.get(user!) ?? []), country!]);
  }
  return pairs
    .filter(({ key: [user], history, within }) => history === 0 && within.doc_count > 0 && usual.has(user!))
    .map(({ key: [user, country], within }): Finding => {
      const name = topValues(within.name)[0]?.value;
      const first = seen(within);
      return {
        id: findingId('new_country', [user!, country!], first.first_seen),
        detector: 'new_country',
        severity: 'medium',
        title: `${user} seen from ${name ?? country}, not among the countries of the previous ${config.history_days} days`,
        ...first,
        count: within.doc_count,
        evidence: {
          user_id: user,
          country_code: country,
          country_name: name,
          usual_countries: usual.get(user!),
          history_days: config.history_days,
          top_source_ips: topValues(within.ips),
          top_services: topValues(within.services),
          categories: topValues(within.categories),
        },
        filters: { user_id: user!, country_code: country!, ...rangeFilters(context.range) },
      };
    });
}
