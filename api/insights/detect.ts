// All detectors over one range, their findings sorted by severity. Each detector is one or a few
// aggregation searches; they run side by side.

import type { EventStore } from '../event-store.ts';
import type { InsightsConfig } from './config.ts';
import type { DetectorContext, Range } from './context.ts';
import { bruteForce } from './detectors/brute-force.ts';
import { credentialSpray } from './detectors/credential-spray.ts';
import { firstAccess } from './detectors/first-access.ts';
import { newCountry } from './detectors/new-country.ts';
import { outsideHours } from './detectors/outside-hours.ts';
import { spike } from './detectors/spike.ts';
import { bySeverity, type Finding } from './finding.ts';

export async function detect(store: EventStore, config: InsightsConfig, range: Range, signal?: AbortSignal): Promise<Finding[]> {
  const context: DetectorContext = { store, range, signal };
  const found = await Promise.all([
    bruteForce(context, config.brute_force),
    credentialSpray(context, config.credential_spray),
    newCountry(context, config.new_country),
    spike(context, 'error_spike', config.error_spike),
    spike(context, 'denial_spike', config.denial_spike),
    firstAccess(context, config.first_access),
    outsideHours(context, config.outside_hours),
  ]);
  return found.flat().sort(bySeverity);
}
