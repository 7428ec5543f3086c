// GET /api/events/proxy/insights over bulk-indexed traffic: a week of ordinary use, then an hour
// with one planted case per detector. Each planted case is found, each finding's filters list
// through GET /api/events/proxy exactly the events it counted, and the ordinary hour before has
// no finding at all.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { insightsConfigSchema } from '../../api/insights/config.ts';
import type { Finding } from '../../api/insights/finding.ts';
import type { AccessRecord } from '../../common/access-record.ts';
import { toDocument } from '../../shipper/document.ts';
import { DAY_MS, indexDocuments, loadingStorage } from '../helpers/dataset.ts';
import { testElasticsearch, type TestElasticsearch } from '../helpers/elasticsearch.ts';
import { HOME_IP, usualTraffic, type UsualService } from '../helpers/usual-traffic.ts';
import { query, startApi, type ApiHarness } from './harness.ts';

const HOUR_MS = 3_600_000;
/** A Friday noon (UTC): the planted hour is 11:00-12:00, the ordinary hour before it 10:00-11:00. */
const END = Date.parse('2026-11-20T12:00:00.000Z');
const PLANTED = { start: END - HOUR_MS, end: END };
const ORDINARY = { start: END - 2 * HOUR_MS, end: END - HOUR_MS - 1 };

const SERVICES: UsualService[] = [
  { id: 'wiki', host: 'wiki.example.com', auth: 'password', users: ['alice', 'bob'] },
  { id: 'grafana', host: 'grafana.example.com', auth: 'sso', users: ['alice', 'bob', 'carol'] },
  { id: 'git', host: 'git.example.com', auth: 'pin', users: ['carol'] },
  { id: 'files', host: 'files.example.com', auth: 'none', users: [] },
  { id: 'chat', host: 'chat.example.com', auth: 'sso', users: ['alice', 'carol'] },
  { id: 'ci', host: 'ci.example.com', auth: 'password', users: ['bob'] },
];
const byId = (id: string) => SERVICES.find((service) => service.id === id)!;

const BRUTE_FORCER = '133.242.0.1'; // JP
const SPRAYER = '200.160.2.3'; // BR
const TRAVEL_IP = '8.8.8.8'; // US

let planted = 0;
function request(at: string, service: string, status: number, sourceIp: string, userId?: string): AccessRecord {
  const { host, auth } = byId(service);
  const record: AccessRecord = {
    time: new Date(Date.parse(`2026-11-20T${at}Z`)).toISOString(),
    id: `planted-${planted++}`,
    service,
    method: status === 401 ? 'POST' : 'GET',
    host,
    path: status === 401 ? '/login' : '/planted',
    status,
    duration_ms: 3,
    source_ip: sourceIp,
    auth_method: auth,
    bytes_in: 0,
    bytes_out: 100,
    protocol: 'https',
    proxy: 'proxy-planted',
  };
  if (userId) record.user_id = userId;
  if (status === 401) record.reason = 'invalid password';
  if (status === 502) record.reason = 'upstream connection refused';
  return record;
}

function plantedRecords(): AccessRecord[] {
  const records: AccessRecord[] = [];
  const times = (from: number, n: number, stepSeconds: number) =>
    Array.from({ length: n }, (_, i) => new Date(Date.parse(`2026-11-20T11:${String(from).padStart(2, '0')}:00Z`) + i * stepSeconds * 1000).toISOString().slice(11, 23));
  for (const at of times(5, 25, 10)) records.push(request(at, 'files', 502, HOME_IP.bob));
  for (const at of times(15, 3, 30)) records.push(request(at, 'grafana', 200, TRAVEL_IP, 'alice'));
  for (const at of times(20, 30, 15)) records.push(request(at, 'wiki', 401, BRUTE_FORCER));
  SERVICES.forEach((service, i) => records.push(request(times(31, 6, 40)[i]!, service.id, 401, SPRAYER)));
  times(40, 12, 30).forEach((at, i) => records.push(request(at, 'git', 401, `203.0.113.${i + 1}`)));
  records.push(request('11:45:00.000', 'ci', 200, HOME_IP.bob, 'bob'));
  for (const at of times(50, 2, 5)) records.push(request(at, 'wiki', 200, HOME_IP.carol, 'carol'));
  return records;
}

const CONFIG = insightsConfigSchema.parse({ outside_hours: { ci: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '11:00' } } });

describe('GET /api/events/proxy/insights', () => {
  let es: TestElasticsearch;
  let api: ApiHarness;

  before(async () => {
    es = testElasticsearch('insights');
    const usual = [...usualTraffic({ services: SERVICES, start: END - 8 * DAY_MS, end: END, perHour: 30, seed: 15 })];
    const client = loadingStorage(es.connection);
    try {
      await indexDocuments(client, es.prefix, [...usual, ...plantedRecords()].map(toDocument));
    } finally {
      await client.close();
    }
    api = await startApi({ connection: es.connection, prefix: es.prefix, insights: CONFIG });
  });

  after(async () => {
    await api?.close();
    await es?.cleanup();
  });

  const range = (r: { start: number; end: number }) => ({ start_date: new Date(r.start).toISOString(), end_date: new Date(r.end).toISOString() });

  async function findings(r: { start: number; end: number }): Promise<Finding[]> {
    const { status, body } = await api.json(`/api/events/proxy/insights${query(range(r))}`);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.total_count, body.data.length);
    return body.data;
  }

  it('finds nothing in an ordinary hour', async () => {
    assert.deepEqual(await findings(ORDINARY), []);
  });

  it('finds each planted case, most severe first, each with filters that list exactly its events', async () => {
    const found = await findings(PLANTED);
    const one = (detector: string, match: (f: Finding) => boolean) => {
      const hits = found.filter((f) => f.detector === detector && match(f));
      assert.equal(hits.length, 1, `one ${detector} finding in ${JSON.stringify(found.map((f) => f.title))}`);
      return hits[0]!;
    };
    const brute = one('brute_force', (f) => f.evidence.source_ip === BRUTE_FORCER);
    assert.equal(brute.count, 30);
    assert.equal(brute.evidence.service_id, 'wiki');
    assert.equal(brute.first_seen, '2026-11-20T11:20:00.000Z');
    assert.deepEqual(brute.filters, { category: 'denied', source_ip: BRUTE_FORCER, service_id: 'wiki', start_date: '2026-11-20T11:20:00.000Z', end_date: '2026-11-20T11:29:59.999Z' });
    const spray = one('credential_spray', (f) => f.evidence.source_ip === SPRAYER);
    assert.equal(spray.evidence.distinct_services, SERVICES.length);
    const sprayed = one('credential_spray', (f) => f.evidence.service_id === 'git');
    assert.equal(sprayed.evidence.distinct_sources, 12);
    const travel = one('new_country', (f) => f.evidence.user_id === 'alice');
    assert.equal(travel.evidence.country_code, 'US');
    assert.deepEqual(travel.evidence.usual_countries, ['DE']);
    assert.equal(travel.count, 3);
    const errors = one('error_spike', (f) => f.evidence.service_id === 'files');
    assert.ok(errors.count >= 25);
    one('denial_spike', (f) => f.evidence.service_id === 'wiki');
    const first = one('first_access', (f) => f.evidence.user_id === 'carol');
    assert.equal(first.evidence.service_id, 'wiki');
    assert.equal(first.count, 2);
    const late = one('outside_hours', (f) => f.evidence.service_id === 'ci');
    assert.ok(late.count >= 1);
    assert.equal(late.filters.start_date, '2026-11-20T11:00:00.000Z');
    assert.equal(found.length, 8, JSON.stringify(found.map((f) => f.title)));

    const order = ['high', 'medium', 'low'];
    assert.deepEqual(found.map((f) => f.severity), [...found.map((f) => f.severity)].sort((a, b) => order.indexOf(a) - order.indexOf(b)));
    for (const finding of found) {
      const { status, body } = await api.json(`/api/events/proxy${query({ ...finding.filters, page_size: 1 })}`);
      assert.equal(status, 200);
      assert.equal(body.total_records, finding.count, `${finding.detector}: ${finding.title}`);
    }
  });

  it('gives the same ids on every run, and a window only once', async () => {
    const first = (await findings(PLANTED)).map((f) => f.id);
    const wider = (await findings({ start: PLANTED.start - 10 * 60_000, end: PLANTED.end })).map((f) => f.id);
    assert.deepEqual(new Set(first), new Set(wider));
    assert.equal(new Set(first).size, first.length);
  });

  it('takes start_date and end_date as the events endpoint does, and answers an empty list before any index exists', async () => {
    const bad = await api.json('/api/events/proxy/insights?start_date=yesterday');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.parameter, 'start_date');
    const reversed = await api.json(`/api/events/proxy/insights${query({ start_date: '2026-11-20T12:00:00Z', end_date: '2026-11-20T11:00:00Z' })}`);
    assert.equal(reversed.status, 400);
    assert.equal(reversed.body.parameter, 'end_date');
    const unknown = await api.json('/api/events/proxy/insights?service_id=wiki');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.parameter, 'service_id');
    assert.equal((await api.get('/api/events/proxy/insights', { token: null })).status, 401);
    const empty = await startApi({ connection: es.connection, prefix: `${es.prefix}-none` });
    try {
      assert.deepEqual((await empty.json('/api/events/proxy/insights')).body, { data: [], total_count: 0 });
    } finally {
      await empty.close();
    }
    const openApi = await api.json('/api/openapi.json');
    assert.ok(openApi.body.paths['/api/events/proxy/insights']);
    assert.ok(openApi.body.components.schemas.Finding);
  });
});
