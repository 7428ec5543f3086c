// The width of the requests-over-time buckets: given, or the smallest of a fixed ladder that keeps
// a chart readable over the requested range.

import { BadParameterError } from '../errors.ts';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const LADDER = ['10s', '30s', '1m', '5m', '15m', '30m', '1h', '3h', '6h', '12h', '1d', '7d'] as const;
/** Buckets a chosen interval aims to stay under. */
const TARGET_BUCKETS = 120;
/** Most buckets a given interval may make over a known range. */
export const MAX_BUCKETS = 2_000;
/** Without a start the data's span is unknown: one bucket a day stays small for any retention. */
const UNBOUNDED_INTERVAL = '1d';

export function intervalMillis(interval: string): number {
  const unit = interval.at(-1) as keyof typeof UNIT_MS;
  return Number(interval.slice(0, -1)) * UNIT_MS[unit];
}

export function chooseInterval(given: string | undefined, start: number | undefined, end: number): string {
  if (start === undefined) return given ?? UNBOUNDED_INTERVAL;
  const span = Math.max(end - start, 1);
  if (given !== undefined) {
    const buckets = Math.ceil(span / intervalMillis(given));
    if (buckets > MAX_BUCKETS) {
      throw new BadParameterError('interval', `makes ${buckets} buckets over the time range; at most ${MAX_BUCKETS}`);
    }
    return given;
  }
  // Beyond the ladder (a range of years), whole days wide enough for the same number of buckets.
  return LADDER.find((step) => span / intervalMillis(step) <= TARGET_BUCKETS) ?? `${Math.ceil(span / TARGET_BUCKETS / UNIT_MS.d)}d`;
}
