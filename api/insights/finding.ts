// What every detector returns: a finding with its evidence and the filter set that lists, through
// GET /api/events/proxy, exactly the events it counted. Its id hashes the detector, the key (who,
// where) and the window, so the same finding has the same id on every run (alerts dedup on it).

import { createHash } from 'node:crypto';
import { z } from 'zod';

export const DETECTORS = ['brute_force', 'credential_spray', 'new_country', 'error_spike', 'denial_spike', 'first_access', 'outside_hours'] as const;
export type Detector = (typeof DETECTORS)[number];

/** Most to least urgent: the order findings are answered in. */
export const SEVERITIES = ['high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

const filterValue = z.union([z.string(), z.array(z.string())]);

export const findingSchema = z
  .object({
    id: z.string().meta({ description: 'Stable: a hash of the detector, the key and the window' }),
    detector: z.enum(DETECTORS),
    severity: z.enum(SEVERITIES),
    title: z.string(),
    first_seen: z.string().meta({ format: 'date-time' }),
    last_seen: z.string().meta({ format: 'date-time' }),
    count: z.number().int().meta({ description: 'Events behind the finding: what GET /api/events/proxy answers as total_records for `filters`' }),
    evidence: z.record(z.string(), z.unknown()).meta({ description: 'Detector-specific counts, thresholds and top values' }),
    filters: z.record(z.string(), filterValue).meta({ description: 'Parameters of GET /api/events/proxy (start_date and end_date included) that list exactly the events counted' }),
  })
  .meta({ id: 'Finding' });

export const insightsResponseSchema = z
  .object({ data: z.array(findingSchema), total_count: z.number().int() })
  .meta({ id: 'InsightsResponse' });

export type Finding = z.infer<typeof findingSchema>;
export type InsightsResponse = z.infer<typeof insightsResponseSchema>;

/** The id of a finding: the same detector, key and window always give the same id. */
export function findingId(detector: Detector, key: readonly string[], window: string): string {
  return createHash('sha256').update(JSON.stringify([detector, ...key, window])).digest('hex').slice(0, 24);
}

export function iso(millis: number): string {
  return new Date(millis).toISOString();
}

/** A top-values list as evidence: `[{value, count}]` from terms buckets. */
export function topValues(agg: unknown): { value: string; count: number }[] {
  return ((agg as { buckets?: { key: string | number; key_as_string?: string; doc_count: number }[] } | undefined)?.buckets ?? []).map((bucket) => ({
    value: bucket.key_as_string ?? String(bucket.key),
    count: bucket.doc_count,
  }));
}

/** High before medium before low; then the most recent first; then by id, so the order is stable. */
export function bySeverity(a: Finding, b: Finding): number {
  return SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || b.last_seen.localeCompare(a.last_seen) || a.id.localeCompare(b.id);
}
