// GET /api/events/proxy against 25,000 known documents: every filter alone and combined, every
// sort both ways, offset pages and the cursor, each checked against the independent model.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProxyEventDocument } from '../../common/proxy-event-document.ts';
import { listResponseSchema } from '../../api/routes/list.ts';
import { SORT_KEYS } from '../../api/query/params.ts';
import { DAY_MS, loadDataset } from '../helpers/dataset.ts';
import { testElasticsearch, type TestElasticsearch } from '../helpers/elasticsearch.ts';
import { startApi, query, type ApiHarness } from './harness.ts';
import { expected, sorted, type Params } from './oracle.ts';

const COUNT = 25_000;
const END = Date.parse('2026-03-10T12:00:00.000Z');

let es: TestElasticsearch;
let api: ApiHarness;
let documents: ProxyEventDocument[];

before(async () => {
  es = testElasticsearch('api-list');
  ({ documents } = await loadDataset(es.connection, es.prefix, { count: COUNT, seed: 7, end: END, spanMs: 10 * DAY_MS }));
  api = await startApi({ connection: es.connection, prefix: es.prefix });
});
after(async () => {
  await api?.close();
  await es?.cleanup();
});

async function page(params: Params & { page?: string; page_size?: string; cursor?: string }) {
  const { status, body } = await api.json(`/api/events/proxy${query(params)}`);
  assert.equal(status, 200, JSON.stringify(body));
  return listResponseSchema.parse(body);
}

/** Total and the first 100 ids (in order) agree with the model. */
async function checkAgainstModel(params: Params) {
  const want = expected(documents, params);
  const got = await page({ ...params, page_size: '100' });
  const label = JSON.stringify(params);
  assert.equal(got.total_records, want.length, `total for ${label}`);
  assert.deepEqual(got.data.map((r) => r.id), want.slice(0, 100).map((d) => d.event.id), `first page for ${label}`);
  assert.equal(got.total_pages, Math.ceil(want.length / 100));
  return want.length;
}

const iso = (ms: number) => new Date(ms).toISOString();
const SOME_IP = () => documents.find((d) => d.source.ip.startsWith('5.'))!.source.ip;

const SINGLE: Params[] = [
  {},
  { search: 'alice' },
  { search: 'ALICE@example' },
  { search: 'timeout' },
  { search: 'upstream connection' },
  { search: 'a*b?c' },
  { search: '100%' },
  { search: '10.1.2.3' },
  { search: '10.0.0.0/8' },
  { search: 'wp-login' },
  { start_date: iso(END - 2 * DAY_MS) },
  { end_date: iso(END - 9 * DAY_MS) },
  { start_date: '2026-03-05T10:00:00+02:00', end_date: '2026-03-05T14:30:00.5+02:00' },
  { status: 'success' },
  { status: 'failed' },
  { status: ['success', 'failed'] },
  { category: 'denied' },
  { category: ['error', 'client_error'] },
  { status_code: '401' },
  { status_code: ['502', '503', '504'] },
  { method: 'get' },
  { method: ['POST', 'Delete'] },
  { host: 'WIKI.example.com' },
  { host: ['git.example.com', 'scan.example.net'] },
  { path: 'api/v1' },
  { path: '*' },
  { path: 'SETTINGS' },
  { path: ['/login', 'report'] },
  { source_ip: '10.0.0.0/8' },
  { source_ip: '192.168.0.7' },
  { source_ip: ['2001:4860::/32', '172.16.0.0/12'] },
  { source_ip: '::1' },
  { user_id: 'alice' },
  { user_id: ['Grace.H', 'frank@corp'] },
  { user_email: 'example.com' },
  { user_email: 'CAROL' },
  { user_name: 'alice' },
  { user_name: ['CHEN', 'grace h'] },
  { search: 'hopper' },
  { auth_method: 'sso' },
  { auth_method: ['pin', 'none'] },
  { country_code: 'de' },
  { country_code: ['US', 'IR'] },
  { city: 'moscow' },
  { service_id: 'wiki' },
  { service_id: ['git', 'files'] },
  { reason: 'password' },
  { reason: 'upstream timeout' },
  { reason: ['SSO session', 'PIN'] },
  { reason: 'timeout refused' },
];

const COMBINED: Params[] = [
  { category: 'denied', auth_method: 'sso', start_date: iso(END - 5 * DAY_MS) },
  { search: 'alice', status: 'success', host: 'grafana.example.com' },
  { source_ip: '10.0.0.0/8', method: 'GET', path: '/' },
  { reason: 'upstream', status_code: ['502', '504'], service_id: ['grafana', 'chat'], end_date: iso(END - DAY_MS) },
  { user_email: 'example', country_code: ['DE', 'FR', 'IT'], status: 'failed' },
  { search: 'report', category: ['allowed', 'denied'], method: ['get', 'post'], city: 'Milan' },
  { host: 'files.example.com', user_id: 'alice' },
];

describe('GET /api/events/proxy filters', () => {
  it('answers every parameter alone as the model does', async () => {
    const sizes = [];
    for (const params of SINGLE) sizes.push(await checkAgainstModel(params));
    // The data set must make the checks meaningful: most filters select some but not all.
    assert.ok(sizes.filter((n) => n > 0 && n < COUNT).length >= SINGLE.length - 5, `sizes ${sizes}`);
  });

  it('answers a source address filter for a public address', async () => {
    assert.ok((await checkAgainstModel({ source_ip: SOME_IP() })) > 0);
  });

  it('answers combined parameters as the model does', async () => {
    for (const params of COMBINED) await checkAgainstModel(params);
  });

  it('finds a record by its id through search', async () => {
    const target = documents[1234]!;
    const got = await page({ search: target.event.id });
    assert.equal(got.data[0]?.id, target.event.id);
  });

  it('ignores empty filter values, as HTML forms send them', async () => {
    const got = await page({ search: '', host: '', page_size: '1' });
    assert.equal(got.total_records, COUNT);
  });
});

describe('GET /api/events/proxy records', () => {
  it('carries the NetBird ProxyAccessLog fields of the stored document', async () => {
    const target = documents.find((d) => d.source.geo?.region_iso_code && d.user?.email && d.user.name && d.event.reason)!;
    const [record] = (await page({ search: target.event.id })).data;
    assert.ok(record);
    assert.equal(record.id, target.event.id);
    assert.equal(record.service_id, target.service?.name ?? '');
    assert.equal(record.timestamp, target['@timestamp']);
    assert.equal(record.method, target.http.request.method);
    assert.equal(record.host, target.url.domain);
    assert.equal(record.path, target.url.path);
    assert.equal(record.duration_ms, Math.round(target.event.duration / 1e6));
    assert.equal(record.status_code, target.http.response.status_code);
    assert.equal(record.bytes_upload, target.http.request.body.bytes);
    assert.equal(record.bytes_download, target.http.response.body.bytes);
    assert.equal(record.source_ip, target.source.ip);
    assert.equal(record.reason, target.event.reason);
    assert.equal(record.user_id, target.user?.id);
    assert.equal(record.user_email, target.user?.email);
    assert.equal(record.user_name, target.user?.name);
    assert.equal(record.auth_method_used, target.proxy_access.auth_method);
    assert.equal(record.country_code, target.source.geo?.country_iso_code);
    assert.equal(record.city_name, target.source.geo?.city_name);
    assert.equal(record.subdivision_code, target.source.geo!.region_iso_code!.split('-')[1]);
    assert.equal(record.protocol, target.url.scheme);
    assert.equal(record.category, target.proxy_access.category);
    assert.equal(record.proxy_id, target.observer.name);
  });

  it('leaves out the optional fields a record does not have, as NetBird does', async () => {
    const target = documents.find((d) => !d.source.geo && !d.user && !d.event.reason && !d.service)!;
    const [record] = (await page({ search: target.event.id })).data;
    for (const field of ['reason', 'user_id', 'user_email', 'user_name', 'country_code', 'city_name', 'subdivision_code']) {
      assert.equal(Object.hasOwn(record!, field), false, field);
    }
    assert.equal(record!.service_id, '');
  });
});

describe('GET /api/events/proxy sorting and paging', () => {
  it('sorts by every field both ways, with stable offset pages', async () => {
    for (const sort_by of SORT_KEYS) {
      for (const sort_order of ['asc', 'desc']) {
        const want = sorted(documents, sort_by, sort_order).map((d) => d.event.id);
        for (const number of [1, 2, 100]) {
          const params = { sort_by, sort_order, page: String(number), page_size: '100' };
          const first = await page(params);
          const label = `${sort_by} ${sort_order} page ${number}`;
          assert.deepEqual(first.data.map((r) => r.id), want.slice((number - 1) * 100, number * 100), label);
          assert.equal(first.page, number);
          if (number === 2) assert.deepEqual((await page(params)).data.map((r) => r.id), first.data.map((r) => r.id), `${label} again`);
        }
      }
    }
  });

  it('refuses offset pages beyond the first 10,000 records and points at the cursor', async () => {
    const { status, body } = await api.json(`/api/events/proxy${query({ page: 101, page_size: 100 })}`);
    assert.equal(status, 400);
    assert.equal(body.parameter, 'page');
    assert.match(body.message, /cursor/);
  });

  it('walks all 25,000 records with the cursor, each exactly once, in order', async () => {
    const want = sorted(documents).map((d) => d.event.id);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const got = await page({ page_size: '100', ...(cursor ? { cursor } : {}) });
      pages++;
      assert.equal(got.page, pages);
      assert.equal(got.total_records, COUNT);
      seen.push(...got.data.map((r) => r.id));
      cursor = got.next_cursor ?? undefined;
    } while (cursor);
    assert.equal(pages, COUNT / 100);
    assert.equal(new Set(seen).size, COUNT);
    assert.deepEqual(seen, want);
  });

  it('pages with the cursor under filters and other sorts, missing values included', async () => {
    const cases: Params[] = [
      { sort_by: 'user_id', sort_order: 'asc', category: 'denied' },
      { sort_by: 'source_ip', sort_order: 'desc', status: 'failed', service_id: ['wiki', 'git'] },
      { sort_by: 'reason', sort_order: 'asc', start_date: iso(END - 2 * DAY_MS), status: 'failed' },
    ];
    for (const params of cases) {
      const want = expected(documents, params).map((d) => d.event.id);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const got = await page({ ...params, page_size: '100', ...(cursor ? { cursor } : {}) });
        seen.push(...got.data.map((r) => r.id));
        cursor = got.next_cursor ?? undefined;
      } while (cursor);
      assert.deepEqual(seen, want, JSON.stringify(params));
    }
  });

  it('refuses a cursor made for another sort, or combined with page', async () => {
    const first = await page({ page_size: '10' });
    const other = await api.json(`/api/events/proxy${query({ cursor: first.next_cursor!, sort_by: 'host' })}`);
    assert.equal(other.status, 400);
    assert.equal(other.body.parameter, 'cursor');
    const both = await api.json(`/api/events/proxy${query({ cursor: first.next_cursor!, page: 2 })}`);
    assert.equal(both.status, 400);
    assert.equal(both.body.parameter, 'page');
  });

  it('has no next_cursor when a page ends exactly at the last record', async () => {
    const params = { host: 'old-host.example.net', status_code: '401' };
    const total = expected(documents, params).length;
    assert.ok(total > 1 && total <= 100, `${total}`);
    const got = await page({ ...params, page_size: String(total) });
    assert.equal(got.data.length, total);
    assert.equal(got.next_cursor, null);
    assert.equal(got.total_pages, 1);
  });
});
