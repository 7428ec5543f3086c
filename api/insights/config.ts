// The insights' thresholds, one block per detector, validated with the rest of the API's
// configuration (api/config.ts). Defaults and why each is what it is: api/README.md, "Insights".

import { z } from 'zod';

const count = (min: number) => z.number().int().min(min).max(1_000_000);
/** Windows are tumbling buckets of this many minutes, aligned to the epoch (UTC). */
const windowMinutes = z.number().int().min(1).max(1_440);
const historyDays = z.number().int().min(1).max(365);

const spikeSchema = z
  .object({
    bucket_minutes: windowMinutes.default(60),
    baseline_days: historyDays.default(7),
    min_count: count(1).default(20),
    p_value: z.number().gt(0).lt(1).default(0.001),
  })
  .strict();

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day HH:MM, e.g. 08:00');

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const serviceHoursSchema = z
  .object({
    time_zone: z.string().refine(isTimeZone, 'must be an IANA time zone, e.g. Europe/Berlin').default('UTC'),
    days: z.array(z.enum(WEEKDAYS)).min(1, 'must list at least one day').default(['mon', 'tue', 'wed', 'thu', 'fri']),
    from: clock.default('08:00'),
    to: clock.default('18:00'),
  })
  .strict()
  .refine((hours) => hours.from < hours.to, { message: 'must be after from (hours do not cross midnight)', path: ['to'] });

export type ServiceHours = z.output<typeof serviceHoursSchema>;

export const insightsConfigSchema = z
  .object({
    /** Without start_date, the range analysed is this many hours before end_date (or now). */
    default_range_hours: z.number().int().min(1).max(24 * 90).default(24),
    brute_force: z.object({ min_denied: count(2).default(20), window_minutes: windowMinutes.default(10) }).strict().prefault({}),
    credential_spray: z
      .object({ min_targets: count(2).default(5), min_sources: count(2).default(10), window_minutes: windowMinutes.default(10) })
      .strict()
      .prefault({}),
    new_country: z.object({ history_days: historyDays.default(30) }).strict().prefault({}),
    error_spike: spikeSchema.prefault({}),
    denial_spike: spikeSchema.prefault({}),
    first_access: z.object({ history_days: historyDays.default(30) }).strict().prefault({}),
    /** Business hours by service id; services not listed have none. */
    outside_hours: z.record(z.string().min(1), serviceHoursSchema).default({}),
  })
  .strict();

export type InsightsConfig = z.output<typeof insightsConfigSchema>;
export type SpikeConfig = z.output<typeof spikeSchema>;

export function defaultInsightsConfig(): InsightsConfig {
  return insightsConfigSchema.parse({});
}
