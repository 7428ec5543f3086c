// Dates and times on the page: one locale-aware format everywhere (table, chart axis, chips,
// insights), in the zone the viewer picked, local or UTC, with ISO 8601 on hover.

import { createContext } from 'preact';

export const TIME_ZONE_MODES = ['local', 'utc'] as const;
export type TimeZoneMode = (typeof TIME_ZONE_MODES)[number];

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');

export class Clock {
  readonly mode: TimeZoneMode;
  /** What the page says the zone is, e.g. "UTC" or "Asia/Tokyo (UTC+9)". */
  readonly label: string;
  /** The short form for the zone switch, e.g. "UTC+9". */
  readonly offsetLabel: string;
  readonly #day: Intl.DateTimeFormat;
  readonly #dayYear: Intl.DateTimeFormat;
  readonly #time: Intl.DateTimeFormat;
  readonly #minute: Intl.DateTimeFormat;
  readonly #yearOf: Intl.DateTimeFormat;
  readonly #year: number;

  constructor(mode: TimeZoneMode, locale?: string, now = Date.now()) {
    this.mode = mode;
    const timeZone = mode === 'utc' ? 'UTC' : undefined;
    this.#day = new Intl.DateTimeFormat(locale, { timeZone, month: 'short', day: 'numeric' });
    this.#dayYear = new Intl.DateTimeFormat(locale, { timeZone, year: 'numeric', month: 'short', day: 'numeric' });
    this.#time = new Intl.DateTimeFormat(locale, { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit' });
    this.#minute = new Intl.DateTimeFormat(locale, { timeZone, hour: '2-digit', minute: '2-digit' });
    this.#yearOf = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric' });
    this.#year = Number(this.#yearOf.format(now));
    const offset = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'shortOffset' })
      .formatToParts(now)
      .find((p) => p.type === 'timeZoneName')!
      .value.replace(/^GMT(?:\+0$)?/, 'UTC');
    this.offsetLabel = offset;
    const name = new Intl.DateTimeFormat(locale, { timeZone }).resolvedOptions().timeZone;
    this.label = mode === 'utc' || offset === name ? offset : `${name} (${offset})`;
  }

  /** "Dec 1"; with the year when it is not this year's. */
  date(ms: number): string {
    return (Number(this.#yearOf.format(ms)) === this.#year ? this.#day : this.#dayYear).format(ms);
  }

  /** Time of day to the second, in the locale's hour style. */
  time(ms: number): string {
    return this.#time.format(ms);
  }

  /** Time of day to the minute. */
  minute(ms: number): string {
    return this.#minute.format(ms);
  }

  /** Date and time to the minute: chips, range labels, chart hover. */
  moment(ms: number): string {
    return `${this.date(ms)} ${this.minute(ms)}`;
  }

  /** A calendar day in this zone, to tell when an axis crosses midnight. */
  dayOf(ms: number): string {
    return this.#dayYear.format(ms);
  }

  /** Minutes east of UTC at `ms` in this zone. */
  offsetMinutes(ms: number): number {
    return this.mode === 'utc' ? 0 : -new Date(ms).getTimezoneOffset();
  }

  /** ISO 8601 in this zone, to the millisecond, with its offset (Z for UTC): the hover text. */
  iso(ms: number): string {
    const offset = this.offsetMinutes(ms);
    const shifted = new Date(ms + offset * 60_000).toISOString().slice(0, 23);
    if (offset === 0) return `${shifted}Z`;
    return `${shifted}${offset > 0 ? '+' : '-'}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
  }

  /** `YYYY-MM-DDTHH:MM` in this zone, for datetime-local inputs. */
  toInput(iso: string | undefined): string {
    if (!iso) return '';
    const ms = Date.parse(iso);
    return Number.isNaN(ms) ? '' : this.iso(ms).slice(0, 16);
  }

  /** A datetime-local input's value, read in this zone, as an instant. */
  fromInput(value: string): string | undefined {
    if (!value) return undefined;
    const ms = this.mode === 'utc' ? Date.parse(`${value}Z`) : new Date(value).getTime();
    return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
  }

  /** "Dec 1 09:00 → now". */
  range(start?: string, end?: string): string {
    const at = (iso?: string) => (iso ? this.moment(Date.parse(iso)) : '…');
    return `${at(start)} → ${end ? at(end) : 'now'}`;
  }
}

export const ClockContext = createContext(new Clock('local'));
