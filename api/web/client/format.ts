// How values look on the page.

import type { AuthMethod } from '../../../common/access-record.ts';

export const CATEGORY_LABEL: Record<string, string> = {
  allowed: 'Allowed',
  denied: 'Denied',
  error: 'Error',
  client_error: 'Client error',
};
/** Order of the outcome series, bottom of the stack first. */
export const CATEGORY_ORDER = ['allowed', 'client_error', 'denied', 'error'] as const;
export const CATEGORY_COLOR: Record<string, string> = {
  allowed: '#2f9e6e',
  client_error: '#8d93a8',
  denied: '#e8833a',
  error: '#d9364f',
};

/** Every auth method's label (the type makes a new method in common/access-record.ts need one here). */
export const AUTH_LABEL: Readonly<Record<AuthMethod, string>> = { sso: 'SSO', password: 'Password', pin: 'PIN', basic: 'HTTP Basic', link: 'E-mail link', none: 'None' };


export function bytes(n: number | undefined): string {
  if (n === undefined || n === null) return '–';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

const THREE_DIGITS = new Intl.NumberFormat(undefined, { minimumSignificantDigits: 3, maximumSignificantDigits: 3, useGrouping: false });

/** One format for every duration: 3 significant digits, in µs under 1 ms, ms under 1 s, else s. */
export function duration(ms: number | undefined | null): string {
  if (ms === undefined || ms === null) return '–';
  if (ms === 0) return '0 ms';
  // Rounded first, so 999.96 ms reads "1.00 s", not "1000 ms".
  const rounded = Number(ms.toPrecision(3));
  if (rounded < 1) return `${THREE_DIGITS.format(rounded * 1000)} µs`;
  if (rounded < 1000) return `${THREE_DIGITS.format(rounded)} ms`;
  return `${THREE_DIGITS.format(rounded / 1000)} s`;
}

export function count(n: number): string {
  return n.toLocaleString();
}

const COMPACT = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });

/** Axis labels: 900, 1.5K, 2M. */
export function compactCount(n: number): string {
  return COMPACT.format(n);
}

const NICE_STEPS = [1, 2, 5] as const;

/**
 * The count axis: whole-number ticks (no "0.5 requests") and at least 10 % headroom above the
 * tallest bar, with about `ticks` intervals.
 */
export function countScale(max: number, ticks = 4): { top: number; step: number } {
  const need = Math.max(1, max * 1.1);
  let step = 1;
  for (let magnitude = 1; step * ticks < need; magnitude *= 10) {
    step = NICE_STEPS.map((n) => n * magnitude).find((candidate) => candidate * ticks >= need) ?? 10 * magnitude;
  }
  return { top: Math.ceil(need / step) * step, step };
}

/** The count axis's ticks, from 0 to the top of the scale. */
export function countTicks(max: number): number[] {
  const { top, step } = countScale(max);
  return Array.from({ length: top / step + 1 }, (_, i) => i * step);
}
