// The page's formats as plain functions: one duration format, the count axis, one date format in
// the zone the viewer picked.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Clock } from '../../api/web/client/clock.ts';
import { countScale, duration } from '../../api/web/client/format.ts';
import { dataSpan, type ChartData } from '../../api/web/client/stats.ts';

describe('duration', () => {
  it('has three significant digits, in µs under 1 ms', () => {
    const cases: [number, string][] = [
      [0, '0 ms'],
      [0.0123, '12.3 µs'],
      [0.5, '500 µs'],
      [0.9996, '1.00 ms'],
      [2, '2.00 ms'],
      [12.345, '12.3 ms'],
      [999.6, '1.00 s'],
      [1234, '1.23 s'],
      [65_000, '65.0 s'],
    ];
    for (const [ms, text] of cases) assert.equal(duration(ms), text, String(ms));
    assert.equal(duration(undefined), '–');
  });
});

describe('count axis', () => {
  it('uses whole-number steps and leaves headroom above the tallest bar', () => {
    for (const max of [0, 1, 2, 3, 7, 10, 99, 180, 2_100, 2_400, 9_999, 123_456]) {
      const { top, step } = countScale(max);
      assert.ok(Number.isInteger(step) && step >= 1, `step ${step} for ${max}`);
      assert.equal(top % step, 0, `top ${top} is a tick for ${max}`);
      assert.ok(top >= max * 1.1 && top >= 1, `headroom for ${max}: ${top}`);
      assert.ok(top / step <= 8 && top / step >= 1, `a handful of ticks for ${max}: ${top / step}`);
    }
    assert.deepEqual(countScale(1), { top: 2, step: 1 });
    assert.deepEqual(countScale(2_100), { top: 3_000, step: 1_000 });
  });
});

describe('clock', () => {
  const at = Date.parse('2026-03-04T05:06:07.089Z');
  it('formats in UTC when asked, with ISO 8601 and Z on hover', () => {
    const clock = new Clock('utc', 'en-US', at);
    assert.equal(clock.label, 'UTC');
    assert.equal(clock.date(at), 'Mar 4');
    assert.equal(clock.date(Date.parse('2025-12-31T12:00:00Z')), 'Dec 31, 2025');
    assert.equal(clock.time(at), '05:06:07 AM');
    assert.equal(clock.iso(at), '2026-03-04T05:06:07.089Z');
    assert.equal(clock.toInput('2026-03-04T05:06:07.089Z'), '2026-03-04T05:06');
    assert.equal(clock.fromInput('2026-03-04T05:06'), '2026-03-04T05:06:00.000Z');
    assert.equal(clock.range('2026-03-04T05:06:07.089Z'), 'Mar 4 05:06 AM → now');
  });

  it('follows the locale', () => {
    assert.equal(new Clock('utc', 'de-DE', at).time(at), '05:06:07');
    assert.equal(new Clock('utc', 'de-DE', at).date(at), '4. März');
  });
});

describe('chart span', () => {
  const HOUR = 3_600_000;
  const bucket = (time: number, n: number) => ({ time, counts: { allowed: n } });
  const chart = (buckets: ChartData['overTime']): ChartData => ({ intervalMs: HOUR / 2, overTime: buckets, topHosts: [], topCountries: [], topReasons: [], p50: null, p95: null });
  const end = Date.parse('2026-03-04T12:00:00Z');
  const start = end - 24 * HOUR;

  it('zooms to fresh requests that fill a sliver of the range, keeping every one inside', () => {
    const buckets = Array.from({ length: 48 }, (_, i) => bucket(start + i * (HOUR / 2), i === 47 ? 5 : 0));
    const span = dataSpan(chart(buckets), start, end)!;
    assert.ok(span.start <= end - HOUR / 2 && span.start >= end - 2 * HOUR, new Date(span.start).toISOString());
    assert.equal(span.end, end);
  });

  it('keeps the whole range when the requests spread over it, or there are none', () => {
    const spread = Array.from({ length: 48 }, (_, i) => bucket(start + i * (HOUR / 2), i % 10 === 0 ? 1 : 0));
    assert.equal(dataSpan(chart(spread), start, end), undefined);
    assert.equal(dataSpan(chart([bucket(start, 0)]), start, end), undefined);
  });
});
