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


const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function localTime(iso: string): { date: string; time: string } {
  const d = new Date(iso);
  return {
    date: `${MONTHS[d.getMonth()]} ${d.getDate()}`,
    time: `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`,
  };
}

export function utcTitle(iso: string): string {
  return `${new Date(iso).toISOString().replace('T', ' ').replace('Z', '')} UTC`;
}

/** `YYYY-MM-DDTHH:MM` in local time, for datetime-local inputs. */
export function toLocalInput(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function shortRange(start?: string, end?: string): string {
  const f = (iso?: string) => {
    if (!iso) return '…';
    const t = localTime(iso);
    return `${t.date} ${t.time.slice(0, 5)}`;
  };
  return `${f(start)} → ${end ? f(end) : 'now'}`;
}

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

export function duration(ms: number | undefined): string {
  if (ms === undefined || ms === null) return '–';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}
