// /stats and /export against known documents: every aggregation equals an independent count, and
// the export streams every match exactly once in both formats.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CATEGORIES, categoryOf } from '../../common/access-record.ts';
import type { ProxyEventDocument } from '../../common/proxy-event-document.ts';
import { RECORD_COLUMNS, proxyAccessLogSchema } from '../../api/events/record.ts';
import { DURATION_SIGNIFICANT_DIGITS, statsResponseSchema } from '../../api/routes/stats.ts';
import { DAY_MS, loadDataset } from '../helpers/dataset.ts';
import { openPointsInTime, testElasticsearch, type TestElasticsearch } from '../helpers/elasticsearch.ts';
import { pointsInTimeBackTo, query, startApi, type ApiHarness } from './harness.ts';
import { expected, matcher, nearestRank, type Params } from './oracle.ts';

const COUNT = 6_000;
const END = Date.parse('2026-06-01T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

let es: TestElasticsearch;
let api: ApiHarness;
let documents: ProxyEventDocument[];

before(async () => {
  es = testElasticsearch('api-stats');
  ({ documents } = await loadDataset(es.connection, es.prefix, { count: COUNT, seed: 11, end: END, spanMs: 7 * DAY_MS }));
  api = await startApi({ connection: es.connection, prefix: es.prefix });
});
after(async () => {
  await api?.close();
  await es?.cleanup();
});

function tally<K>(docs: ProxyEventDocument[], key: (d: ProxyEventDocument) => K | undefined): Map<K, number> {
  const counts = new Map<K, number>();
  for (const d of docs) {
    const k = key(d);
    if (k !== undefined) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/** The API's top list agrees with the exact counts: same counts in the same order, each key's count exact. */
function assertTop<K>(got: { key: K; count: number }[], exact: Map<K, number>, size: number, label: string) {
  const want = [...exact.values()].sort((a, b) => b - a).slice(0, size);
  assert.deepEqual(got.map((b) => b.count), want, `${label} counts`);
  for (const bucket of got) assert.equal(exact.get(bucket.key), bucket.count, `${label} ${String(bucket.key)}`);
}

async function checkStats(params: Params, intervalMs?: number) {
  const { status, body } = await api.json(`/api/events/proxy/stats${query(params)}`);
  assert.equal(status, 200, JSON.stringify(body));
  const stats = statsResponseSchema.parse(body);
  const docs = documents.filter(matcher(params));
  const label = JSON.stringify(params);
  assert.equal(stats.total_records, docs.length, label);

  const width = intervalMs ?? Number(stats.interval.slice(0, -1)) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[stats.interval.at(-1) as 's']!;
  const bucketOf = (ms: number) => Math.floor(ms / width) * width;
  const rows = new Map<number, Record<string, number>>();
  if (typeof params.start_date === 'string') {
    const last = bucketOf(typeof params.end_date === 'string' ? Date.parse(params.end_date) : Date.now());
    for (let t = bucketOf(Date.parse(params.start_date)); t <= last; t += width) rows.set(t, { total: 0 });
  }
  for (const d of docs) {
    const key = bucketOf(Date.parse(d['@timestamp']));
    const row = rows.get(key) ?? { total: 0 };
    row.total!++;
    row[d.proxy_access.category] = (row[d.proxy_access.category] ?? 0) + 1;
    rows.set(key, row);
  }
  const wantRows = [...rows.entries()].sort(([a], [b]) => a - b);
  if (typeof params.start_date !== 'string') {
    // Without a start the histogram runs from the first to the last bucket holding data.
    const keys = wantRows.map(([k]) => k);
    for (let t = keys[0]!; t <= keys.at(-1)!; t += width) if (!rows.has(t)) rows.set(t, { total: 0 });
  }
  const filled = [...rows.entries()].sort(([a], [b]) => a - b);
  assert.deepEqual(
    stats.requests_over_time,
    filled.map(([t, row]) => ({ timestamp: iso(t), total: row.total!, ...Object.fromEntries(CATEGORIES.map((c) => [c, row[c] ?? 0])) })),
    `${label} over time`,
  );

  assertTop(stats.top_hosts, tally(docs, (d) => d.url.domain), 10, 'hosts');
  assertTop(stats.top_source_ips, tally(docs, (d) => d.source.ip), 10, 'source ips');
  assertTop(stats.top_countries, tally(docs, (d) => d.source.geo?.country_iso_code), 10, 'countries');
  for (const country of stats.top_countries) {
    assert.equal(country.name, docs.find((d) => d.source.geo?.country_iso_code === country.key)!.source.geo!.country_name);
  }
  assertTop(stats.top_denial_reasons, tally(docs.filter((d) => categoryOf(d.http.response.status_code) === 'denied'), (d) => d.event.reason), 10, 'reasons');
  assert.deepEqual(
    new Map(stats.status_codes.map((b) => [b.key, b.count])),
    tally(docs, (d) => d.http.response.status_code),
    'status codes',
  );
  assert.deepEqual(new Map(stats.auth_methods.map((b) => [b.key, b.count])), tally(docs, (d) => d.proxy_access.auth_method), 'auth methods');

  const durations = docs.map((d) => d.event.duration / 1e6).sort((a, b) => a - b);
  for (const p of [50, 90, 95, 99] as const) {
    const got = stats.duration_ms[`p${p}`];
    if (durations.length === 0) {
      assert.equal(got, null);
      continue;
    }
    // To its significant digits, and to the microsecond the API rounds to.
    const exact = nearestRank(durations, p, es.storage.engine);
    assert.ok(got !== null && Math.abs(got - exact) <= exact * 10 ** -DURATION_SIGNIFICANT_DIGITS + 0.0005, `p${p}: ${got} vs ${exact}`);
  }
  return stats;
}

describe('GET /api/events/proxy/stats', () => {
  it('counts everything as the model does, over a given range', async () => {
    const stats = await checkStats({ start_date: iso(END - 7 * DAY_MS), end_date: iso(END) });
    assert.equal(stats.interval, '3h');
  });

  it('counts under filters, with empty buckets across the whole range', async () => {
    await checkStats({ category: 'denied', start_date: iso(END - 2 * DAY_MS), end_date: iso(END) });
    await checkStats({ host: 'wiki.example.com', status: 'failed', start_date: iso(END - DAY_MS - 3_600_000) });
    await checkStats({ search: 'alice', source_ip: ['0.0.0.0/1', '2000::/3'] });
  });

  it('uses a given interval', async () => {
    const stats = await checkStats({ interval: '1h', start_date: iso(END - 2 * DAY_MS), end_date: iso(END) }, 3_600_000);
    assert.equal(stats.interval, '1h');
    assert.equal(stats.requests_over_time.length, 49);
  });

  it('answers a filter that matches nothing with zeros and nulls', async () => {
    const stats = await checkStats({ user_id: 'nobody-at-all', start_date: iso(END - 3_600_000), end_date: iso(END) });
    assert.equal(stats.total_records, 0);
    assert.equal(stats.duration_ms.p50, null);
  });
});

/** RFC 4180 rows, quotes and CRLFs included. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\r' && text[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
    else cell += c;
  }
  return rows;
}

describe('GET /api/events/proxy/export', () => {
  it('streams every record as NDJSON, in the sort order, across many pages', async () => {
    const response = await api.get('/api/events/proxy/export');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /application\/x-ndjson/);
    assert.match(response.headers.get('content-disposition')!, /attachment; filename="proxy-events.ndjson"/);
    const lines = (await response.text()).split('\n');
    assert.equal(lines.pop(), '');
    const records = lines.map((line) => proxyAccessLogSchema.strict().parse(JSON.parse(line)));
    assert.deepEqual(records.map((r) => r.id), expected(documents, {}).map((d) => d.event.id));
  });

  it('streams every match as CSV, with a header and formula-safe cells', async () => {
    const params: Params = { category: ['denied', 'error'], sort_by: 'host', sort_order: 'asc' };
    const response = await api.get(`/api/events/proxy/export${query({ ...params, format: 'csv' })}`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /text\/csv/);
    const [header, ...rows] = parseCsv(await response.text());
    assert.deepEqual(header, RECORD_COLUMNS);
    const want = expected(documents, params);
    assert.ok(want.length > 1_000);
    assert.deepEqual(rows.map((row) => row[0]), want.map((d) => d.event.id));
    const column = (name: string) => RECORD_COLUMNS.indexOf(name as never);
    for (const [i, row] of rows.entries()) {
      const d = want[i]!;
      assert.equal(row[column('host')], d.url.domain);
      assert.equal(row[column('status_code')], String(d.http.response.status_code));
      assert.equal(row[column('reason')], d.event.reason ?? '');
      const agent = d.user_agent?.original ?? '';
      assert.equal(row[column('user_agent')], agent.startsWith('=') ? `'${agent}` : agent);
    }
  });

  it('exports an empty result as just the header', async () => {
    const response = await api.get(`/api/events/proxy/export${query({ format: 'csv', user_id: 'nobody-at-all' })}`);
    assert.equal(await response.text(), `${RECORD_COLUMNS.join(',')}\r\n`);
  });

  it('answers HEAD with the headers and leaves no point in time open', async () => {
    const before = await openPointsInTime(es.connection);
    const response = await api.get('/api/events/proxy/export?format=csv', { method: 'HEAD' });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /text\/csv/);
    assert.equal(await openPointsInTime(es.connection), before);
  });

  it('releases its point in time when the client goes away before reading', async () => {
    const before = await openPointsInTime(es.connection);
    const controller = new AbortController();
    await api.get('/api/events/proxy/export', { signal: controller.signal });
    controller.abort();
    await pointsInTimeBackTo(es.connection, before);
  });

  it('releases its point in time when the client goes away mid-stream', async () => {
    const before = await openPointsInTime(es.connection);
    const controller = new AbortController();
    const response = await api.get('/api/events/proxy/export', { signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await pointsInTimeBackTo(es.connection, before);
  });
});
