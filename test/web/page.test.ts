// The Proxy Events page in a real Chromium, against the real API app and a real Elasticsearch
// holding a known data set. Expected counts come from the records themselves, not from the API.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { AccessRecord } from '../../common/access-record.ts';
import { EventStore } from '../../api/event-store.ts';
import { createStorage } from '../../common/storage/create.ts';
import { DEEP_COUNT, DEEP_HOST, indexRecords, USER_NAMES } from './dataset.ts';
import { screenshot, settled, shownTotal, signIn, startApi, startWebStack, type WebStack } from './harness.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const COUNTRY: Record<string, string> = { '81.2.69.142': 'GB', '8.8.8.8': 'US', '5.9.0.1': 'DE', '202.12.27.33': 'JP', '77.88.8.8': 'RU', '200.160.2.3': 'BR', '41.63.0.1': 'ZM', '2001:4860:4860::8888': 'US' };

let stack: WebStack;

function within(record: AccessRecord, ms: number): boolean {
  return Date.parse(record.time) >= stack.now - ms;
}
/** Records of the default view (last 24 hours) that satisfy `predicate`. */
function expected(predicate: (r: AccessRecord) => boolean = () => true, rangeMs = DAY): AccessRecord[] {
  return stack.records.filter((r) => within(r, rangeMs) && predicate(r));
}
function byTimeDesc(records: AccessRecord[]): AccessRecord[] {
  return [...records].sort((a, b) => b.time.localeCompare(a.time) || b.id.localeCompare(a.id));
}

async function rowIds(page: Page): Promise<string[]> {
  return page.$$eval('tr.row', (rows) => rows.map((r) => r.getAttribute('data-id')!));
}
async function query(page: Page): Promise<URLSearchParams> {
  return new URL(page.url()).searchParams;
}
async function addFilter(page: Page, field: string, value: string): Promise<void> {
  await page.selectOption('.add-filter select[name=field]', field);
  const input = page.locator('.add-filter [name=value]');
  if ((await input.evaluate((e) => e.tagName)) === 'SELECT') await input.selectOption(value);
  else await input.fill(value);
  await page.click('.add-filter button[type=submit]');
  await settled(page);
}

describe('Proxy Events page in Chromium', () => {
  let page: Page;
  const browserErrors: string[] = [];

  before(async () => {
    stack = await startWebStack();
    ({ page } = await stack.newPage());
    page.on('pageerror', (error) => browserErrors.push(error.message));
    // Failed responses (the 401 and 400 tests) are logged by Chromium too; anything else is a fault.
    page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && browserErrors.push(m.text()));
  });
  after(async () => stack?.close());

  it('refuses a bad token with a clear message and keeps it out of the URL', async () => {
    await page.goto(`${stack.url}/`);
    await page.fill('#token', 'not-the-token-not-the-token');
    await page.click('button[type=submit]');
    const alert = await page.textContent('[role=alert]');
    assert.match(alert!, /did not accept this token \(401\)/);
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    await screenshot(page, '01-bad-token');
  });

  it('signs in, keeps the token in session storage only, and shows the last 24 hours', async () => {
    const seenAuth: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/api/')) seenAuth.push(request.headers().authorization ?? '');
    });
    await signIn(page, stack);
    const want = expected();
    assert.equal(await shownTotal(page), want.length);
    assert.deepEqual(await rowIds(page), byTimeDesc(want).slice(0, 50).map((r) => r.id));
    assert.equal(await page.evaluate(() => sessionStorage.getItem('proxy-events.token')), stack.token);
    assert.ok(!page.url().includes(stack.token));
    assert.ok(seenAuth.length > 0 && seenAuth.every((h) => h === `Bearer ${stack.token}`));
    await screenshot(page, '02-signed-in');
  });

  it('narrows the rows with each filter and removes it with its chip', async () => {
    const base = expected().length;
    const cases: [string, string, (r: AccessRecord) => boolean][] = [
      ['host', 'wiki.example.com', (r) => r.host === 'wiki.example.com'],
      ['user_id', 'alice', (r) => r.user_id === 'alice'],
      ['user_name', 'archer', (r) => r.user_name === USER_NAMES.alice],
      ['method', 'POST', (r) => r.method === 'POST'],
      ['source_ip', '202.12.27.0/24', (r) => r.source_ip.startsWith('202.12.27.')],
      ['country_code', 'GB', (r) => COUNTRY[r.source_ip] === 'GB'],
      ['auth_method', 'pin', (r) => r.auth_method === 'pin'],
      ['category', 'denied', (r) => [401, 403, 429].includes(r.status)],
      ['status_code', '502', (r) => r.status === 502],
      ['reason', 'refused', (r) => r.reason?.includes('refused') ?? false],
    ];
    for (const [field, value, predicate] of cases) {
      await addFilter(page, field, value);
      const want = expected(predicate);
      assert.ok(want.length > 0 && want.length < base, `${field} is a narrowing case`);
      assert.equal(await shownTotal(page), want.length, `${field}=${value}`);
      assert.deepEqual(new Set(await rowIds(page)), new Set(want.map((r) => r.id)), `${field}=${value} rows`);
      if (field === 'category') await screenshot(page, '03-filter-denied');
      if (field === 'user_name') {
        const users = await page.$$eval('tr.row .c-user', (cells) => cells.map((cell) => [cell.querySelector('.user')!.textContent, cell.querySelector('.user-id')?.textContent]));
        assert.ok(users.length > 0 && users.every(([name, id]) => name === USER_NAMES.alice && id === 'alice'), `the User column shows the name and the id: ${JSON.stringify(users)}`);
      }
      await page.click(`[data-chip="${field}=${value}"] .chip-x`);
      await settled(page);
      assert.equal(await shownTotal(page), base, `${field} chip removed`);
    }
    // Two filters together, then the free-text search over the reason.
    await addFilter(page, 'host', 'app.example.com');
    await addFilter(page, 'category', 'denied');
    assert.equal(await shownTotal(page), expected((r) => r.host === 'app.example.com' && [401, 403, 429].includes(r.status)).length);
    await page.click('button.link:text("Clear all")');
    await page.fill('.search input', 'allowed group');
    await page.press('.search input', 'Enter');
    await settled(page);
    assert.equal(await shownTotal(page), expected((r) => r.reason === 'user not in an allowed group').length);
    await page.click('[data-chip=search] .chip-x');
    await settled(page);
  });

  it('applies each time preset', async () => {
    for (const [key, ms] of [['15m', 15 * MINUTE], ['1h', 60 * MINUTE], ['7d', 7 * DAY], ['30d', 30 * DAY], ['24h', DAY]] as const) {
      await page.click(`[data-range="${key}"]`);
      await settled(page);
      assert.equal(await shownTotal(page), expected(() => true, ms).length, key);
    }
  });

  it('sorts by a column both ways', async () => {
    const statuses = async () => page.$$eval('tr.row .status', (cells) => cells.map((c) => Number(c.textContent)));
    await page.click('[data-sort=status_code]');
    await settled(page);
    assert.equal((await query(page)).get('sort_by'), 'status_code');
    const down = await statuses();
    assert.deepEqual(down, [...down].sort((a, b) => b - a));
    assert.equal(down[0], Math.max(...expected().map((r) => r.status)));
    await page.click('[data-sort=status_code]');
    await settled(page);
    assert.equal((await query(page)).get('sort_order'), 'asc');
    const up = await statuses();
    assert.deepEqual(up, [...up].sort((a, b) => a - b));
    assert.equal(up[0], Math.min(...expected().map((r) => r.status)));
    await page.click('[data-sort=host]');
    await settled(page);
    const hosts = await page.$$eval('tr.row .host', (cells) => cells.map((c) => c.textContent!));
    assert.deepEqual(hosts, [...hosts].sort().reverse());
    await page.click('[data-sort=timestamp]');
    await settled(page);
  });

  it('pages with a chosen page size', async () => {
    const all = byTimeDesc(expected());
    await page.selectOption('.pager select', '25');
    await settled(page);
    assert.deepEqual(await rowIds(page), all.slice(0, 25).map((r) => r.id));
    assert.match((await page.textContent('.page-no'))!, new RegExp(`Page 1 of ${Math.ceil(all.length / 25)}`));
    await page.click('[data-page=next]');
    await settled(page);
    assert.equal((await query(page)).get('page'), '2');
    assert.deepEqual(await rowIds(page), all.slice(25, 50).map((r) => r.id));
    await page.click('[data-page=prev]');
    await settled(page);
    assert.deepEqual(await rowIds(page), all.slice(0, 25).map((r) => r.id));
  });

  it('pages beyond the 10,000-record window by cursor', async () => {
    const start = new Date(stack.now - 42 * DAY).toISOString();
    const end = new Date(stack.now - 39 * DAY).toISOString();
    const view = new URLSearchParams({ start_date: start, end_date: end, host: DEEP_HOST, page_size: '100', page: '100' });
    await page.goto(`${stack.url}/events?${view}`);
    await page.waitForSelector('[data-testid=total]');
    assert.equal(await shownTotal(page), DEEP_COUNT);
    // Newest first: the k-th row overall is deep-(DEEP_COUNT-1-k).
    const deepId = (k: number) => `deep-${String(DEEP_COUNT - 1 - k).padStart(6, '0')}`;
    assert.equal((await rowIds(page))[0], deepId(9_900));
    await page.click('[data-page=next]');
    await settled(page);
    assert.ok((await query(page)).get('cursor'), 'the next page is asked for by cursor');
    const ids = await rowIds(page);
    assert.equal(ids[0], deepId(10_000));
    assert.equal(ids.length, 100);
    assert.match((await page.textContent('.page-no'))!, /Page 101 of 102/);
    await screenshot(page, '04-cursor-page');
    await page.click('[data-page=next]');
    await settled(page);
    const cursorPage = page.url();
    const last = await rowIds(page);
    assert.equal(last[0], deepId(10_100));
    assert.equal(last.length, DEEP_COUNT - 10_100);
    assert.equal(await page.isDisabled('[data-page=next]'), true);
    // Back through the cursor pages: the history knows the cursor of page 101; page 100 is an offset page again.
    await page.click('[data-page=prev]');
    await settled(page);
    assert.equal((await rowIds(page))[0], deepId(10_000));
    await page.click('[data-page=prev]');
    await settled(page);
    assert.equal((await query(page)).get('cursor'), null);
    assert.equal((await rowIds(page))[0], deepId(9_900));
    // A shared link to a deep cursor page has no history to go back through: Prev goes to the first page.
    await page.goto(cursorPage);
    await settled(page);
    await page.click('[data-page=prev]');
    await settled(page);
    assert.equal((await query(page)).get('page'), null);
    assert.equal((await rowIds(page))[0], deepId(0));
  });

  it('adds a filter from a chart click', async () => {
    await page.goto(`${stack.url}/events`);
    await page.waitForSelector('[data-chart=top-hosts] .bar-row');
    await settled(page);
    const host = (await page.getAttribute('[data-chart=top-hosts] .bar-row >> nth=0', 'data-key'))!;
    await page.click('[data-chart=top-hosts] .bar-row >> nth=0');
    await settled(page);
    assert.deepEqual((await query(page)).getAll('host'), [host]);
    assert.equal(await shownTotal(page), expected((r) => r.host === host).length);

    await page.click('[data-chart=top-countries] .bar-row[data-key=GB]');
    await settled(page);
    assert.equal(await shownTotal(page), expected((r) => r.host === host && COUNTRY[r.source_ip] === 'GB').length);

    await page.click('[data-chart=top-reasons] .bar-row >> nth=0');
    await settled(page);
    const reason = (await query(page)).get('reason')!;
    assert.ok(reason);

    await page.goto(`${stack.url}/events`);
    await page.click('[data-chart=over-time] .legend-item[data-category=error]');
    await settled(page);
    assert.equal(await shownTotal(page), expected((r) => r.status >= 500).length);

    // A bar of the time chart narrows the range to its bucket.
    await page.goto(`${stack.url}/events`);
    await settled(page);
    const over = page.locator('[data-chart=over-time] .u-over');
    const box = (await over.boundingBox())!;
    // Hover from the right until the legend shows a bucket with requests, then click it.
    const hovered = async () =>
      page.$$eval('[data-chart=over-time] .legend-item b', (counts) => counts.reduce((sum, b) => sum + Number(b.textContent!.replaceAll(',', '')), 0));
    let x = box.x + box.width - 2;
    await page.mouse.move(x, box.y + box.height - 5);
    while ((await hovered()) === 0 && x > box.x) {
      x -= 3;
      await page.mouse.move(x, box.y + box.height - 5);
    }
    await page.mouse.click(x, box.y + box.height - 5);
    await settled(page);
    const q = await query(page);
    const from = Date.parse(q.get('start_date')!);
    const to = Date.parse(q.get('end_date')!);
    assert.ok(to > from && stack.now - from < 45 * MINUTE, 'the newest bucket with requests');
    assert.ok(await page.isVisible('[data-chip=range]'));
    const inBucket = stack.records.filter((r) => Date.parse(r.time) >= from && Date.parse(r.time) <= to);
    assert.ok(inBucket.length > 0);
    assert.equal(await shownTotal(page), inBucket.length);
    await screenshot(page, '05-chart-click');
  });

  it('reproduces the view from its URL after a reload and in a new tab', async () => {
    await page.goto(`${stack.url}/events?range=7d&category=denied&category=error&sort_by=host&sort_order=asc&page_size=25&page=2`);
    await settled(page);
    const ids = await rowIds(page);
    const total = await shownTotal(page);
    assert.equal(total, expected((r) => r.status >= 500 || [401, 403, 429].includes(r.status), 7 * DAY).length);
    assert.ok(ids.length > 0);
    const url = page.url();
    await page.reload();
    await page.waitForSelector('[data-testid=total]');
    assert.equal(page.url(), url);
    assert.deepEqual(await rowIds(page), ids);
    assert.equal(await page.$eval('[data-range="7d"]', (b) => b.classList.contains('seg-on')), true);
    assert.equal(await page.$$eval('.chips .chip', (c) => c.length), 2);

    const other = await stack.newPage();
    await other.page.goto(url);
    await other.page.fill('#token', stack.token);
    await other.page.click('button[type=submit]');
    await other.page.waitForSelector('[data-testid=total]');
    await settled(other.page);
    assert.equal(other.page.url(), url);
    assert.deepEqual(await rowIds(other.page), ids);
    await other.context.close();
  });

  it('shows a row in detail with shortcuts to related requests', async () => {
    await page.goto(`${stack.url}/events`);
    await settled(page);
    const record = byTimeDesc(expected((r) => r.user_id !== undefined))[0]!;
    await page.click(`tr.row[data-id="${record.id}"]`);
    await page.waitForSelector('[data-testid=detail]');
    assert.equal(await page.textContent('[data-testid=detail] [data-field=id]'), record.id);
    assert.equal(await page.textContent('[data-testid=detail] [data-field=source_ip]'), record.source_ip);
    assert.equal((await query(page)).get('detail'), record.id);
    await screenshot(page, '06-detail');
    await page.reload();
    await page.waitForSelector('[data-testid=detail]');
    await page.click('[data-shortcut=user_id]');
    await settled(page);
    assert.equal(await shownTotal(page), expected((r) => r.user_id === record.user_id).length);
    assert.equal(await page.isVisible('[data-testid=detail]'), false);
    await page.goto(`${stack.url}/events?detail=${record.id}`);
    await page.click('[data-shortcut=source_ip]');
    await settled(page);
    assert.equal(await shownTotal(page), expected((r) => r.source_ip === record.source_ip).length);
  });

  it('exports the rows of the current filter as CSV and NDJSON', async () => {
    await page.goto(`${stack.url}/events?range=30d&host=wiki.example.com`);
    await settled(page);
    const want = expected((r) => r.host === 'wiki.example.com', 30 * DAY).map((r) => r.id).sort();
    for (const format of ['csv', 'ndjson'] as const) {
      await page.click('[data-action=export]');
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(`[data-format=${format}]`)]);
      assert.match(download.suggestedFilename(), new RegExp(`^proxy-events-.*\\.${format}$`));
      const text = await readFile((await download.path())!, 'utf8');
      const lines = text.trim().split('\n');
      const ids =
        format === 'ndjson'
          ? lines.map((line) => (JSON.parse(line) as { id: string }).id)
          : lines.slice(1).map((line) => line.split(',')[lines[0]!.split(',').indexOf('id')]!.replaceAll('"', ''));
      assert.deepEqual(ids.sort(), want, format);
    }
  });

  it('names the bad parameter when the API answers 400', async () => {
    await page.goto(`${stack.url}/events?status_code=999`);
    const banner = await page.waitForSelector('[data-testid=error]');
    assert.match((await banner.textContent())!, /status_code/);
    assert.match((await banner.textContent())!, /400/);
    await screenshot(page, '07-bad-parameter');
    await page.click('[data-testid=error] button:text("Reset the view")');
    await settled(page);
    assert.equal(await shownTotal(page), expected().length);
  });

  it('tails new requests live', async () => {
    await page.goto(`${stack.url}/events`);
    await settled(page);
    await page.click('label.live');
    assert.equal((await query(page)).get('live'), '1');
    const fresh: AccessRecord = { ...stack.records[0]!, id: 'web-live-1', time: new Date().toISOString(), path: '/live/new' };
    await indexRecords(stack.loader, stack.es.prefix, [fresh]);
    await page.waitForSelector('tr.row[data-id="web-live-1"].row-fresh', { timeout: 12_000 });
    await screenshot(page, '08-live');
    await page.click('label.live');
  });

  it('says so when Elasticsearch is unreachable (503)', async () => {
    // An API whose Elasticsearch is a closed port: the page signs in, then shows the 503.
    const unreachable = createStorage({ url: 'http://127.0.0.1:9', request_timeout_ms: 1_000 });
    const { url, server } = await startApi(new EventStore(unreachable, 'nowhere', 1_000), stack.token);
    try {
      const other = await stack.newPage();
      await other.page.goto(`${url}/events`);
      await other.page.fill('#token', stack.token);
      await other.page.click('button[type=submit]');
      const banner = await other.page.waitForSelector('[data-testid=error]');
      assert.match((await banner.textContent())!, /Elasticsearch is unavailable \(503\)/);
      await screenshot(other.page, '09-elasticsearch-down');
      await other.context.close();
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await unreachable.close();
    }
  });

  it('raised no script error and broke no content-security rule', () => {
    assert.deepEqual(browserErrors, []);
  });

  it('returns to sign-in when signed out', async () => {
    await page.click('[data-action=sign-out]');
    await page.waitForSelector('#token');
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  });
});
