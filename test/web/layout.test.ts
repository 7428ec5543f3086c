// The page's formats, time zone, column chooser, chart range and narrow layouts, in a real
// Chromium against the real API and Elasticsearch. Expected values come from the records.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { AccessRecord } from '../../common/access-record.ts';
import { indexRecords } from './dataset.ts';
import { screenshot, settled, shownTotal, signIn, startWebStack, type WebStack } from './harness.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const FRESH_HOST = 'fresh.example.com';
/** Durations across the units (the API gives whole milliseconds, so µs show only in the unit tests). */
const FRESH_DURATIONS = [3, 15, 250, 1234, 65_000];

let stack: WebStack;
let fresh: AccessRecord[];

/** Requests of the last few minutes only, to one host: a sliver at the end of a 24-hour range. */
function freshRecords(now: number): AccessRecord[] {
  return FRESH_DURATIONS.map((duration_ms, i) => ({
    ...stack.records[0]!,
    id: `fresh-${i}`,
    time: new Date(now - (i + 1) * MINUTE).toISOString(),
    host: FRESH_HOST,
    path: `/fresh/${i}`,
    duration_ms,
    status: 200,
    user_id: 'dora-with-a-rather-long-user-name',
  }));
}

async function texts(page: Page, selector: string): Promise<string[]> {
  return page.$$eval(selector, (nodes) => nodes.map((n) => n.textContent!.trim()));
}

async function newSignedInPage(width: number, timezoneId = 'UTC', path = '/events'): Promise<Page> {
  const context = await stack.browser.newContext({ viewport: { width, height: 900 }, timezoneId, locale: 'en-US' });
  const page = await context.newPage();
  // Generous: the suites of a whole team share two cores.
  page.setDefaultTimeout(60_000);
  await signIn(page, stack, path);
  await settled(page);
  return page;
}

/** Nothing on the page is wider than the window: no sideways scrolling, nothing cut. */
async function assertFits(page: Page, width: number): Promise<void> {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= width, `page is ${overflow} px wide in a ${width} px window`);
}

describe('Proxy Events page: formats, columns and layouts', () => {
  before(async () => {
    stack = await startWebStack({ deep: false });
    fresh = freshRecords(Date.now());
    await indexRecords(stack.loader, stack.es.prefix, fresh);
  });
  after(async () => stack?.close());

  it('formats every duration with three significant digits, in µs under 1 ms', async () => {
    const page = await newSignedInPage(1400, 'UTC', `/events?host=${FRESH_HOST}&sort_by=duration&sort_order=asc`);
    assert.deepEqual(await texts(page, 'tr.row .dur'), ['3.00 ms', '15.0 ms', '250 ms', '1.23 s', '65.0 s']);
    await page.goto(`${stack.url}/events`);
    await settled(page);
    for (const text of await texts(page, 'tr.row .dur')) {
      assert.match(text, /^(\d\.\d\d|\d\d\.\d|\d\d\d) (µs|ms|s)$/, text);
    }
    for (const text of (await page.textContent('.latency'))!.match(/p\d\d \S+ \S+/g)!) {
      assert.match(text, /^p\d\d (\d\.\d\d|\d\d\.\d|\d\d\d) (µs|ms|s)$/, text);
    }
    await page.context().close();
  });

  it('shows dates in one locale format, ISO 8601 on hover, in local time or UTC as the URL says', async () => {
    const page = await newSignedInPage(1400, 'Asia/Tokyo', `/events?host=${FRESH_HOST}`);
    const record = fresh[0]!;
    const at = Date.parse(record.time);
    const inZone = (timeZone: string) =>
      `${new Intl.DateTimeFormat('en-US', { timeZone, month: 'short', day: 'numeric' }).format(at)} ${new Intl.DateTimeFormat('en-US', { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(at)}`;
    const cell = `tr.row[data-id="${record.id}"] td.c-time time`;
    const tokyo = new Date(at + 9 * HOUR).toISOString().slice(0, 23);
    assert.equal(await page.getAttribute(cell, 'title'), `${tokyo}+09:00`);
    assert.equal((await page.textContent(cell))!.trim(), inZone('Asia/Tokyo'));
    assert.match((await page.textContent('.results-head h2'))!, /Asia\/Tokyo \(UTC\+9\)/);
    assert.equal(await page.textContent('[data-zone=local]'), 'Local UTC+9');

    await page.click('[data-zone=utc]');
    await settled(page);
    assert.equal(new URL(page.url()).searchParams.get('tz'), 'utc');
    assert.equal(await page.getAttribute(cell, 'title'), record.time);
    assert.equal((await page.textContent(cell))!.trim(), inZone('UTC'));
    assert.match((await page.textContent('.results-head h2'))!, /· UTC/);
    // The custom range is read in the zone shown.
    await page.click('[data-range=custom]');
    assert.match((await page.textContent('.custom-range .fine'))!, /Times in UTC/);
    assert.equal(await page.inputValue('.custom-range [name=start]'), new Date(Date.now() - 24 * HOUR).toISOString().slice(0, 16));
    await page.click('.custom-range button:text("Cancel")');
    await page.reload();
    await settled(page);
    assert.equal(await page.getAttribute(cell, 'title'), record.time, 'the zone survives a reload');
    await page.context().close();
  });

  it('zooms the chart to where the requests are, with whole-number count ticks and headroom', async () => {
    const page = await newSignedInPage(1400, 'UTC', `/events?host=${FRESH_HOST}`);
    const chart = '[data-chart=over-time]';
    const axis = async () => {
      const [start, end] = await Promise.all([page.getAttribute(chart, 'data-axis-start'), page.getAttribute(chart, 'data-axis-end')]);
      return Number(end) - Number(start);
    };
    assert.equal(await page.getAttribute(chart, 'data-focused'), 'true');
    assert.ok((await axis()) <= 2 * HOUR, `axis spans ${(await axis()) / MINUTE} min`);
    const legend = await page.$$eval(`${chart} .legend-item b`, (bs) => bs.reduce((sum, b) => sum + Number(b.textContent!.replaceAll(',', '')), 0));
    assert.equal(legend, fresh.length, 'every request of the range is in the zoomed chart');
    await screenshot(page, 'layout-chart-zoomed');
    await page.click('[data-action=chart-whole]');
    await page.waitForSelector(`${chart}[data-focused=false]`);
    await settled(page);
    assert.ok((await axis()) >= 23 * HOUR, `axis spans ${(await axis()) / HOUR} h`);
    await page.click('[data-action=chart-focus]');
    await page.waitForSelector(`${chart}[data-focused=true]`);

    // Ticks: whole numbers from 0, the top above the tallest bar by at least 10 %.
    // The 7-day view's stats (not a late answer of the view before).
    const stats = page.waitForResponse((r) => {
      const start = new URL(r.url()).searchParams.get('start_date');
      return r.url().includes('/api/events/proxy/stats') && start !== null && Date.now() - Date.parse(start) > 6 * 24 * HOUR;
    });
    await page.goto(`${stack.url}/events?range=7d`);
    const { requests_over_time: buckets } = (await (await stats).json()) as { requests_over_time: { total: number }[] };
    const tallest = Math.max(...buckets.map((b) => b.total));
    await settled(page);
    const ticks = (await page.getAttribute(chart, 'data-count-ticks'))!.split(',').map(Number);
    assert.equal(ticks[0], 0);
    assert.ok(ticks.every((t) => Number.isInteger(t)), ticks.join(','));
    assert.ok(tallest > 0 && ticks.length >= 2 && ticks.at(-1)! >= tallest * 1.1, `${ticks.join(',')} over ${tallest}`);
    await page.context().close();
  });

  it('lets the user pick and order the columns, kept in the URL', async () => {
    const page = await newSignedInPage(1400);
    const headers = async () => page.$$eval('table.events th', (ths) => ths.map((th) => th.getAttribute('data-column')));
    assert.deepEqual(await headers(), ['time', 'source', 'request', 'status', 'bytes', 'user']);
    await page.click('[data-action=columns]');
    await page.click('.columns-menu li[data-column=bytes] input');
    await page.click('.columns-menu li[data-column=agent] input');
    for (let i = 0; i < 3; i++) await page.click('.columns-menu li[data-column=user] [data-move=up]');
    await settled(page);
    await screenshot(page, 'layout-columns');
    const want = ['time', 'user', 'source', 'request', 'status', 'agent'];
    assert.deepEqual(await headers(), want);
    assert.equal(new URL(page.url()).searchParams.get('columns'), want.join(','));
    assert.equal(await page.isDisabled('.columns-menu li[data-column=time] [data-move=up]'), true);
    const first = await page.getAttribute('tr.row >> nth=0', 'data-id');
    const record = [...stack.records, ...fresh].find((r) => r.id === first)!;
    assert.equal((await page.textContent('tr.row >> nth=0 >> td[data-column=agent]'))!.trim(), record.user_agent);
    await page.reload();
    await settled(page);
    assert.deepEqual(await headers(), want, 'the columns survive a reload');
    await page.context().close();
  });

  it('fits 800 px: the top bar on two rows without wrapped words, the User column whole', async () => {
    const page = await newSignedInPage(800);
    await assertFits(page, 800);
    const single = async (selector: string) =>
      page.$$eval(selector, (nodes) => nodes.map((n) => n.getBoundingClientRect().height / parseFloat(getComputedStyle(n).lineHeight || '18')));
    for (const ratio of await single('.brand, .seg')) assert.ok(ratio < 1.8, `a word wrapped: ${ratio} lines`);
    const [brand, picker] = await Promise.all([page.locator('.brand').boundingBox(), page.locator('.range-picker').boundingBox()]);
    assert.ok(picker!.y >= brand!.y + brand!.height - 1, 'the presets take the second row');
    const wrap = await page.$eval('.table-wrap', (w) => ({ scroll: w.scrollWidth, client: w.clientWidth }));
    assert.ok(wrap.scroll <= wrap.client, `the table is ${wrap.scroll} px in ${wrap.client} px`);
    const user = (await page.locator('tr.row >> nth=0 >> td[data-column=user]').boundingBox())!;
    assert.ok(user.x + user.width <= 800, 'the User column is inside the window');
    await screenshot(page, 'layout-800');
    await page.context().close();
  });

  it('fits 400 px: the table becomes a list of cards', async () => {
    const page = await newSignedInPage(400);
    await assertFits(page, 400);
    assert.equal(await page.isVisible('table.events thead'), false);
    const rows = await page.$$eval('tr.row', (trs) => trs.slice(0, 10).map((tr) => ({ display: getComputedStyle(tr).display, right: tr.getBoundingClientRect().right })));
    for (const row of rows) {
      assert.equal(row.display, 'grid');
      assert.ok(row.right <= 400, `a row ends at ${row.right} px`);
    }
    for (const column of ['time', 'user', 'status']) {
      const box = (await page.locator(`tr.row >> nth=0 >> td[data-column=${column}]`).boundingBox())!;
      assert.ok(box.x >= 0 && box.x + box.width <= 400 && box.height > 0, `${column} shows in the card`);
    }
    // Still usable: a filter narrows, a card opens the detail.
    await page.click('[data-chart=top-hosts] .bar-row >> nth=0');
    await settled(page);
    assert.ok((await shownTotal(page)) > 0);
    await page.click('tr.row >> nth=0');
    await page.waitForSelector('[data-testid=detail]');
    const detail = (await page.locator('[data-testid=detail]').boundingBox())!;
    assert.ok(detail.x >= 0 && detail.width <= 400);
    await screenshot(page, 'layout-400');
    await page.context().close();
  });
});
