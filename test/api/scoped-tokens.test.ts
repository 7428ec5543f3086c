// Scoped tokens against the real node, over a data set of several services (and events of none).
// The property: whatever the parameters, a token limited to some services answers exactly what a
// token for every service answers to the same request narrowed (by the oracle, here) to those
// services: the same status and the same body, byte for byte — pages, cursors, counts, top lists,
// percentiles, exported lines. And what is returned never names another service's events.
// Missing permissions are 403 API_FORBIDDEN naming the permission.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { CSV_HEADER } from '../../api/events/csv.ts';
import { EventStore } from '../../api/event-store.ts';
import { filterQuery } from '../../api/query/filters.ts';
import { EXPORT_PARAMS, FILTER_PARAMS, LIST_PARAMS, MAX_REPEATED_VALUES, SORT_KEYS, STATS_PARAMS, parseQuery } from '../../api/query/params.ts';
import { ServiceScope } from '../../api/query/scope.ts';
import { FIELD } from '../../common/proxy-event-document.ts';
import { MAX_TEXT_LENGTH } from '../../api/query/values.ts';
import { hashToken, type ConfiguredToken } from '../../api/tokens.ts';
import { DAY_MS, SERVICES, loadDataset, type Dataset } from '../helpers/dataset.ts';
import { testElasticsearch, type TestElasticsearch } from '../helpers/elasticsearch.ts';
import { startApi, type ApiHarness } from './harness.ts';

const END = Date.parse('2026-05-01T00:00:00.000Z');
const EVERY_SERVICE = 'every-service-token-0123456789abcdef';
const SCOPES: Record<string, string[]> = {
  'only-grafana-token-0123456789abcdef': ['grafana'],
  'wiki-and-git-token-0123456789abcdef': ['wiki', 'git'],
  'three-services-token-0123456789abcd': ['files', 'chat', 'grafana'],
};
const READ_ONLY = 'read-only-token-0123456789abcdefgh';
/** No event has it: the every-service request for a scoped one whose service_id leaves no service. */
const NO_SERVICE = 'no-such-service';

let es: TestElasticsearch;
let api: ApiHarness;
let dataset: Dataset;

before(async () => {
  es = testElasticsearch('api-scope');
  dataset = await loadDataset(es.connection, es.prefix, { count: 500, seed: 16, end: END, spanMs: 3 * DAY_MS });
  const tokens: ConfiguredToken[] = [
    { name: 'every-service', sha256: hashToken(EVERY_SERVICE) },
    ...Object.entries(SCOPES).map(([token, services], i) => ({ name: `scoped-${i}`, sha256: hashToken(token), services })),
    { name: 'read-only', sha256: hashToken(READ_ONLY), services: ['wiki'], permissions: ['read'] },
  ];
  api = await startApi({ connection: es.connection, prefix: es.prefix, tokens });
});
after(async () => {
  await api?.close();
  await es?.cleanup();
});

const serviceIds = SERVICES.map((service) => service.id);
const hostsOf = (services: string[]) => new Set(SERVICES.filter((s) => services.includes(s.id)).map((s) => s.host));

it('the data set has events of every service and of none, so a scope has something to hide', () => {
  const seen = new Set(dataset.records.map((record) => record.service));
  for (const id of serviceIds) assert.ok(seen.has(id), id);
  assert.ok(seen.has(undefined));
});

type Entries = [string, string][];

/** The every-service request that must answer what `scope` answers to `entries`. */
function narrowed(entries: Entries, scope: string[]): Entries {
  const asked = entries.filter(([name, value]) => name === 'service_id' && value !== '').map(([, value]) => value);
  const others = entries.filter(([name]) => name !== 'service_id');
  // A bad service_id is the 400 either way: the request stays as it was.
  if (asked.some((value) => value.length > MAX_TEXT_LENGTH) || asked.length > MAX_REPEATED_VALUES) return entries;
  const visible = asked.length === 0 ? scope : asked.filter((value) => scope.includes(value));
  return [...others, ...(visible.length > 0 ? visible : [NO_SERVICE]).map((value): [string, string] => ['service_id', value])];
}

async function fetchText(path: string, entries: Entries, token: string) {
  const search = new URLSearchParams(entries).toString();
  const response = await api.get(`${path}${search ? `?${search}` : ''}`, { token });
  return { status: response.status, text: await response.text(), search };
}

const SPECIALS = ['*', '?', '\\', '"', '(', ')', ':', '/', '%', '+', 'é', ''];
const someText = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(...SPECIALS));
const dateText = fc.date({ min: new Date(END - 4 * DAY_MS), max: new Date(END + DAY_MS), noInvalidDate: true }).map((d) => d.toISOString());

const VALUE_FOR: Record<string, fc.Arbitrary<string>> = {
  service_id: fc.oneof(fc.constantFrom(...serviceIds, NO_SERVICE, ''), someText),
  host: fc.constantFrom(...SERVICES.map((s) => s.host), 'scan.example.net', 'GRAFANA.example.com'),
  start_date: dateText,
  end_date: dateText,
  page: fc.integer({ min: 0, max: 12 }).map(String),
  page_size: fc.integer({ min: 0, max: 120 }).map(String),
  sort_by: fc.constantFrom(...SORT_KEYS),
  sort_order: fc.constantFrom('asc', 'desc'),
  status: fc.constantFrom('success', 'failed'),
  category: fc.constantFrom('allowed', 'denied', 'error', 'client_error'),
  status_code: fc.constantFrom('200', '401', '403', '404', '502'),
  method: fc.constantFrom('GET', 'post', 'DELETE'),
  path: fc.constantFrom('/api', 'login', '/static', '%', '*'),
  auth_method: fc.constantFrom('sso', 'password', 'pin', 'none'),
  country_code: fc.constantFrom('DE', 'us', 'FR', 'XX'),
  user_id: fc.constantFrom('alice', 'bob', 'frank@corp'),
  search: fc.oneof(fc.constantFrom('grafana', 'wiki', 'git', 'upstream', 'alice', '10.0.0.0/8', 'example'), someText),
  interval: fc.constantFrom('1h', '6h', '1d', '30m'),
  format: fc.constantFrom('ndjson', 'csv'),
  cursor: someText,
};

/** Random parameter sets: mostly valid values of the endpoint's own parameters, service_id often. */
function entriesFor(table: Record<string, unknown>): fc.Arbitrary<Entries> {
  const names = Object.keys(table);
  const entry = fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.constant('service_id'), VALUE_FOR.service_id!) },
    { weight: 8, arbitrary: fc.constantFrom(...names).chain((name) => fc.tuple(fc.constant(name), VALUE_FOR[name] ?? someText)) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('nope', 'service'), someText) },
  );
  return fc.array(entry, { maxLength: 5 });
}

const scopedToken = fc.constantFrom(...Object.keys(SCOPES));

/** Runs the property for one endpoint; `check` looks at a scoped 200 on its own, beside the comparison. */
async function sameAsNarrowed(path: string, table: Record<string, unknown>, numRuns: number, check: (text: string, scope: string[]) => void) {
  let answered = 0;
  await fc.assert(
    fc.asyncProperty(scopedToken, entriesFor(table), async (token, entries) => {
      const scope = SCOPES[token]!;
      const scoped = await fetchText(path, entries, token);
      const expected = await fetchText(path, narrowed(entries, scope), EVERY_SERVICE);
      assert.equal(scoped.status, expected.status, `${path}?${scoped.search}: ${scoped.text.slice(0, 300)}`);
      assert.equal(scoped.text, expected.text, `${path}?${scoped.search} as ${scope} vs ?${expected.search}`);
      if (scoped.status === 200) answered++, check(scoped.text, scope);
    }),
    { numRuns },
  );
  // Most runs must reach Elasticsearch, not stop at validation.
  assert.ok(answered >= numRuns / 3, `${answered} of ${numRuns} runs answered 200`);
}

describe('a token limited to services answers what the every-service token answers for those services', () => {
  it('GET /api/events/proxy', async () => {
    await sameAsNarrowed('/api/events/proxy', LIST_PARAMS, 150, (text, scope) => {
      for (const record of JSON.parse(text).data) assert.ok(scope.includes(record.service_id), `${record.service_id} outside ${scope}`);
    });
  });

  it('GET /api/events/proxy/stats', async () => {
    await sameAsNarrowed('/api/events/proxy/stats', STATS_PARAMS, 100, (text, scope) => {
      const stats = JSON.parse(text);
      const hosts = hostsOf(scope);
      for (const { key } of stats.top_hosts) assert.ok(hosts.has(key), `host ${key} outside ${scope}`);
      const inScope = dataset.records.filter((record) => record.service !== undefined && scope.includes(record.service)).length;
      assert.ok(stats.total_records <= inScope);
    });
  });

  it('GET /api/events/proxy/export', async () => {
    await sameAsNarrowed('/api/events/proxy/export', EXPORT_PARAMS, 40, (text, scope) => {
      const hosts = hostsOf(scope);
      for (const line of text.split('\n').filter(Boolean)) {
        if (line.startsWith('{')) assert.ok(scope.includes(JSON.parse(line).service_id), line);
        else if (line.trimEnd() !== CSV_HEADER.trimEnd()) assert.ok([...hosts].some((host) => line.includes(host)), line);
      }
    });
  });

  it('the every-service token sees the events a scoped one does not', async () => {
    const all = await api.get('/api/events/proxy/stats', { token: EVERY_SERVICE });
    const one = await api.get('/api/events/proxy/stats', { token: Object.keys(SCOPES)[0]! });
    const [allStats, oneStats] = [await all.json(), await one.json()];
    assert.equal(allStats.total_records, dataset.records.length);
    assert.equal(oneStats.total_records, dataset.records.filter((record) => record.service === 'grafana').length);
    assert.deepEqual(oneStats.top_hosts.map((h: { key: string }) => h.key), ['grafana.example.com']);
  });
});

it('the store refuses a global aggregation, which would count outside the scope whatever the query', () => {
  const store = new EventStore(es.storage, es.prefix, 5_000);
  const query = filterQuery(new ServiceScope(['grafana']), parseQuery(FILTER_PARAMS, {}));
  assert.throws(() => store.search({ query, size: 0, aggs: { hosts: { terms: { field: FIELD.domain } }, all: { global: {}, aggs: { hosts: { terms: { field: FIELD.domain } } } } } }), /global aggregation/);
  assert.throws(() => store.search({ query, size: 0, aggs: { ok: { terms: { field: FIELD.domain }, aggs: { all: { global: {} } } } } }), /global aggregation/);
});

describe('permissions', () => {
  it('a token without a permission gets 403 API_FORBIDDEN naming it, before its parameters are looked at', async () => {
    for (const [path, permission] of [['/api/events/proxy/export?format=xml', 'export'], ['/api/audit?page=0', 'audit']] as const) {
      const response = await api.get(path, { token: READ_ONLY });
      assert.equal(response.status, 403, path);
      assert.deepEqual(await response.json(), { error: 'API_FORBIDDEN', permission, message: `this token lacks the ${permission} permission` });
    }
    const listed = await api.get('/api/events/proxy', { token: READ_ONLY });
    assert.equal(listed.status, 200);
    assert.ok((await listed.json()).data.every((record: { service_id: string }) => record.service_id === 'wiki'));
  });

  it('a token without the audit permission by default cannot read the audit log', async () => {
    const response = await api.get('/api/audit', { token: EVERY_SERVICE });
    assert.equal(response.status, 403);
    assert.equal((await response.json()).permission, 'audit');
  });
});
