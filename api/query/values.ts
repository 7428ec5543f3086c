// Zod schemas for single query-parameter values. Each turns one string into a typed value or
// fails with a message fit for a 400; z.toJSONSchema renders the same schemas into openapi.json.

import { z } from 'zod';
import { isAddressOrCidr } from '../../common/ip-address.ts';

/**
 * Longest text value accepted. Case-insensitive and substring matches compile the text into an
 * automaton of one state per character, and Elasticsearch refuses automata of 1,000 states.
 */
export const MAX_TEXT_LENGTH = 256;

export function integer(min: number, max: number) {
  return z.preprocess(
    (value) => (typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : value),
    z
      .number({ error: 'must be an integer' })
      .int()
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`),
  );
}

export function text(description: string) {
  return z.string().min(1, 'must not be empty').max(MAX_TEXT_LENGTH, `must be at most ${MAX_TEXT_LENGTH} characters`).meta({ description });
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of ${values.join(', ')}` });
}

/** RFC 3339 date-time with seconds and a zone (Z or ±hh:mm); milliseconds since the epoch. */
export const dateTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/, 'must be an RFC 3339 date-time, e.g. 2026-01-31T15:30:00Z')
  .refine((value) => isRealDateTime(value), 'is not a real date and time')
  .meta({ format: 'date-time' });

function isRealDateTime(value: string): boolean {
  // zod runs this check even after the pattern failed, so it must cope with any text.
  const normalized = value.toUpperCase();
  const parts = /^(\d{4})-(\d{2})-(\d{2})T/.exec(normalized);
  if (!parts || Number.isNaN(Date.parse(normalized))) return false;
  // Date.parse rolls 2026-02-30 over to March; a real date reads back with the same day.
  const [, year, month, day] = parts;
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  const check = new Date(0);
  check.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  return check.getUTCFullYear() === Number(year) && check.getUTCMonth() === Number(month) - 1 && check.getUTCDate() === Number(day)
    && Number(normalized.slice(11, 13)) < 24 && Number(normalized.slice(14, 16)) < 60 && Number(normalized.slice(17, 19)) < 60;
}

export function toEpochMillis(value: string): number {
  return Date.parse(value.toUpperCase());
}

/** An IPv4 or IPv6 address, or a CIDR block of either (a term query on an `ip` field takes both). */
export const addressOrCidr = z
  .string()
  .refine(isAddressOrCidr, 'must be an IP address or a CIDR block, e.g. 203.0.113.7 or 10.0.0.0/8')
  .meta({ description: 'IP address or CIDR block', examples: ['203.0.113.7', '10.0.0.0/8', '2001:db8::/32'] });

export const countryCode = z
  .string()
  .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 country code, e.g. DE')
  .transform((value) => value.toUpperCase());

export const statusCode = integer(100, 599);
