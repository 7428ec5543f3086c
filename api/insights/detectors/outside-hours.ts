// Access outside a service's configured hours: allowed requests to a service in each stretch of
// time between two of its opening periods (an evening and night, a weekend), in the service's own
// time zone. Services without configured hours have no such findings.

import { FIELD } from '../../../common/proxy-event-document.ts';
import { WEEKDAYS, type InsightsConfig, type ServiceHours } from '../config.ts';
import { buckets, DAY_MS, eventsQuery, rangeFilters, SEEN_AGGS, seen, top, type DetectorContext, type Range } from '../context.ts';
import { findingId, iso, topValues, type Finding } from '../finding.ts';

/** How far around the range opening periods are looked for, so a stretch is whole (a weekend and its nights). */
const SEARCH_MARGIN_MS = 8 * DAY_MS;

/** Offset of `timeZone` from UTC at `instant`, in milliseconds. */
function zoneOffset(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  }).formatToParts(instant);
  const part = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second')) - Math.floor(instant / 1000) * 1000;
}

/** The instant a local wall-clock time (day given as a UTC midnight) happens in `timeZone`. */
function localInstant(dayUtc: number, clock: string, timeZone: string): number {
  const [hours, minutes] = clock.split(':').map(Number) as [number, number];
  const wall = dayUtc + (hours * 60 + minutes) * 60_000;
  const guess = wall - zoneOffset(wall, timeZone);
  return wall - zoneOffset(guess, timeZone);
}

/** The stretches between opening periods that overlap the range, each whole ([start, end), epoch ms). */
export function closedStretches(hours: ServiceHours, range: Range): Range[] {
  const open: Range[] = [];
  const firstDay = Math.floor((range.start - SEARCH_MARGIN_MS) / DAY_MS) * DAY_MS;
  for (let day = firstDay; day <= range.end + SEARCH_MARGIN_MS; day += DAY_MS) {
    if (!hours.days.includes(WEEKDAYS[new Date(day).getUTCDay()]!)) continue;
    open.push({ start: localInstant(day, hours.from, hours.time_zone), end: localInstant(day, hours.to, hours.time_zone) });
  }
  const closed: Range[] = [];
  for (let i = 1; i < open.length; i++) {
    const stretch = { start: open[i - 1]!.end, end: open[i]!.start };
    if (stretch.start <= range.end && stretch.end > range.start) closed.push(stretch);
  }
  return closed;
}

async function outsideHoursOf(context: DetectorContext, service: string, hours: ServiceHours): Promise<Finding[]> {
  const stretches = closedStretches(hours, context.range);
  if (stretches.length === 0) return [];
  const base = { category: 'allowed', service_id: service };
  const within = (stretch: Range): Range => ({ start: Math.max(stretch.start, context.range.start), end: Math.min(stretch.end - 1, context.range.end) });
  const response = await context.store.search(
    {
      size: 0,
      query: eventsQuery({ ...base, ...rangeFilters(context.range) }),
      aggs: {
        stretches: {
          date_range: {
            field: FIELD.timestamp,
            format: 'epoch_millis',
            ranges: stretches.map((stretch) => ({ from: String(within(stretch).start), to: String(within(stretch).end + 1) })),
          },
          aggs: { ...SEEN_AGGS, users: top(FIELD.userId), sources: top(FIELD.sourceIp), paths: top(FIELD.path) },
        },
      },
    },
    context.signal,
  );
  return buckets(response.aggregations?.stretches).flatMap((bucket, index): Finding[] => {
    if (bucket.doc_count === 0) return [];
    const stretch = stretches[index]!;
    return [{
      id: findingId('outside_hours', [service], `${iso(stretch.start)}/${iso(stretch.end)}`),
      detector: 'outside_hours',
      severity: 'low',
      title: `${bucket.doc_count} requests to ${service} outside its hours (${hours.days.join(', ')} ${hours.from}-${hours.to} ${hours.time_zone})`,
      ...seen(bucket),
      count: bucket.doc_count,
      evidence: {
        service_id: service,
        closed_from: iso(stretch.start),
        closed_until: iso(stretch.end),
        hours,
        top_users: topValues(bucket.users),
        top_source_ips: topValues(bucket.sources),
        top_paths: topValues(bucket.paths),
      },
      filters: { ...base, ...rangeFilters(within(stretch)) },
    }];
  });
}

export async function outsideHours(context: DetectorContext, config: InsightsConfig['outside_hours']): Promise<Finding[]> {
  const perService = await Promise.all(Object.entries(config).map(([service, hours]) => outsideHoursOf(context, service, hours)));
  return perService.flat();
}
