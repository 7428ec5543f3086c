// What differs between Elasticsearch and OpenSearch, each through the storage seam on whichever
// engine the test cluster is (npm test: Elasticsearch; npm run test:opensearch: OpenSearch): the
// point-in-time API and search_after under it, case-insensitive term and wildcard queries, the
// aggregations' answers, the composable template's settings, and the errors that mean "not now"
// (unreachable, no answer, a write block, a closed index) against those that are the request's.

import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { estypes } from '@elastic/elasticsearch';
import { EventStore } from '../../api/event-store.ts';
import { ElasticsearchUnavailableError } from '../../api/errors.ts';
import { filterQuery } from '../../api/query/filters.ts';
import { FILTER_PARAMS, parseQuery } from '../../api/query/params.ts';
import { ServiceScope } from '../../api/query/scope.ts';
import { sortClause } from '../../api/query/sort.ts';
import { installIndexTemplate } from '../../common/index-lifecycle.ts';
import { dailyIndexName, FIELD, FIELD_TYPE, indexPattern, type ProxyEventDocument } from '../../common/proxy-event-document.ts';
import { createStorage } from '../../common/storage/create.ts';
import { engineOf } from '../../common/storage/engine.ts';
import { StorageRequestError } from '../../common/storage/storage.ts';
import { sendBulk } from '../../shipper/bulk.ts';
import { toDocument } from '../../shipper/document.ts';
import { sorted } from '../api/oracle.ts';
import { DAY_MS, loadDataset } from '../helpers/dataset.ts';
import { clusterRequest, testElasticsearch, type TestElasticsearch } from '../helpers/elasticsearch.ts';
import { testRecord } from '../helpers/records.ts';

const COUNT = 600;
const END = Date.parse('2026-05-20T12:00:00.000Z');
const PAGE = 70;

let es: TestElasticsearch;
let documents: ProxyEventDocument[];
let engine: string;

before(async () => {
  es = testElasticsearch('seam');
  engine = engineOf(es.connection);
  ({ documents } = await loadDataset(es.connection, es.prefix, { count: COUNT, seed: 11, end: END, spanMs: 3 * DAY_MS }));
});
after(async () => es?.cleanup());

/** The failure a call ends in: a StorageRequestError. */
async function failure(call: Promise<unknown>): Promise<StorageRequestError> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof StorageRequestError, String(error));
    return error;
  }
  assert.fail('the call succeeded');
}

describe('points in time', () => {
  const sort = sortClause('timestamp', 'desc');
  const want = () => sorted(documents).map((d) => d.event.id);

  /** Every page under the point in time, each one's search_after cut to `keep` values of the last hit's sort. */
  async function walk(pit: string, keep: (values: estypes.FieldValue[]) => estypes.FieldValue[]) {
    const ids: string[] = [];
    const sortLengths = new Set<number>();
    let after: estypes.FieldValue[] | undefined;
    for (;;) {
      const page = await es.storage.search<ProxyEventDocument>({ pit: { id: pit, keep_alive: '1m' }, sort, size: PAGE, track_total_hits: false, ...(after ? { search_after: after } : {}) });
      for (const hit of page.hits.hits) {
        ids.push(hit._source!.event.id);
        sortLengths.add(hit.sort!.length);
      }
      if (page.hits.hits.length < PAGE) return { ids, sortLengths };
      after = keep(page.hits.hits.at(-1)!.sort!);
    }
  }

  it('opens one, pages every document once in order with search_after, and closes it', async () => {
    const pit = await es.storage.openPointInTime(indexPattern(es.prefix), '1m');
    assert.equal(typeof pit, 'string');
    try {
      const whole = await walk(pit, (values) => values);
      assert.deepEqual(whole.ids, want());
      // Elasticsearch appends its implicit `_shard_doc` tiebreaker to every hit's sort values; OpenSearch does not.
      assert.deepEqual([...whole.sortLengths], [engine === 'elasticsearch' ? sort.length + 1 : sort.length]);
      // The export's way: only the explicit sort's values, which also hold across points in time.
      const explicit = await walk(pit, (values) => values.slice(0, sort.length));
      assert.deepEqual(explicit.ids, want());
    } finally {
      await es.storage.closePointInTime(pit);
    }
    const closed = await failure(es.storage.search({ pit: { id: pit, keep_alive: '1m' }, size: 1 }));
    assert.equal(closed.kind, 'response');
    // The API takes a point in time that is gone for unavailability (503), never a bug.
    const store = new EventStore(es.storage, es.prefix, 10_000);
    await assert.rejects(store.search({ pit: { id: pit, keep_alive: '1m' }, size: 1, query: filterQuery(new ServiceScope(undefined), parseQuery(FILTER_PARAMS, {})) }), ElasticsearchUnavailableError);
  });
});

describe('queries and aggregations', () => {
  it('matches term and wildcard queries case-insensitively with case_insensitive', async () => {
    const pattern = indexPattern(es.prefix);
    const settings = documents.filter((d) => d.url.path.toLowerCase().includes('settings')).length;
    assert.ok(settings > 0);
    assert.equal(await es.storage.count(pattern, { wildcard: { [FIELD.path]: { value: '*SETTINGS*', case_insensitive: true } } }), settings);
    assert.equal(await es.storage.count(pattern, { wildcard: { [FIELD.path]: { value: '*SETTINGS*' } } }), 0, 'without it, case counts');
    const grace = documents.filter((d) => d.user?.id === 'Grace.H').length;
    assert.ok(grace > 0);
    assert.equal(await es.storage.count(pattern, { term: { [FIELD.userId]: { value: 'grace.h', case_insensitive: true } } }), grace);
  });

  it("answers terms, filter, percentiles and date_histogram in Elasticsearch's shapes", async () => {
    const response = await es.storage.search({
      index: indexPattern(es.prefix),
      size: 0,
      track_total_hits: true,
      aggs: {
        methods: { terms: { field: FIELD.method, size: 20 } },
        denied: { filter: { term: { [FIELD.category]: 'denied' } } },
        duration: { percentiles: { field: FIELD.eventDuration, percents: [50, 99] } },
        days: { date_histogram: { field: FIELD.timestamp, fixed_interval: '1d', min_doc_count: 0, extended_bounds: { min: END - 5 * DAY_MS, max: END } } },
      },
    });
    assert.deepEqual(response.hits.total, { value: COUNT, relation: 'eq' });
    const aggs = response.aggregations as Record<string, any>;
    const methods = new Map<string, number>();
    for (const d of documents) methods.set(d.http.request.method, (methods.get(d.http.request.method) ?? 0) + 1);
    assert.deepEqual(new Map(aggs.methods.buckets.map((b: { key: string; doc_count: number }) => [b.key, b.doc_count])), methods);
    assert.equal(aggs.denied.doc_count, documents.filter((d) => d.proxy_access.category === 'denied').length);
    assert.deepEqual(Object.keys(aggs.duration.values).sort(), ['50.0', '99.0']);
    assert.equal(typeof aggs.duration.values['50.0'], 'number');
    assert.equal(aggs.days.buckets.length, 6, 'empty days across the whole range');
    assert.equal(typeof aggs.days.buckets[0].key, 'number');
    assert.equal(aggs.days.buckets.reduce((n: number, b: { doc_count: number }) => n + b.doc_count, 0), COUNT);
  });

  it('answers a search over no index without aggregations', async () => {
    const response = await es.storage.search({ index: indexPattern(`${es.prefix}-none`), size: 0, aggs: { methods: { terms: { field: FIELD.method } } } });
    assert.equal(response.aggregations, undefined);
    assert.equal(response.hits.hits.length, 0);
  });
});

describe('the composable template', () => {
  it('creates daily indices with its settings and every field with its type', async () => {
    await installIndexTemplate(es.storage, es.prefix);
    const index = dailyIndexName(es.prefix, new Date(END + 30 * DAY_MS));
    assert.equal(await es.storage.createIndex(index), true);
    assert.equal(await es.storage.createIndex(index), false, 'an index that exists is left as it is');
    const { body: settings } = await clusterRequest(es.connection, 'GET', `/${index}/_settings`);
    const { number_of_shards, auto_expand_replicas, refresh_interval } = settings[index].settings.index;
    assert.deepEqual({ number_of_shards, auto_expand_replicas, refresh_interval }, { number_of_shards: '1', auto_expand_replicas: '0-1', refresh_interval: '1s' });
    const { body: mapping } = await clusterRequest(es.connection, 'GET', `/${index}/_mapping/field/${Object.values(FIELD).join(',')}`);
    for (const name of Object.values(FIELD)) {
      const entry = mapping[index].mappings[name]?.mapping[name.split('.').at(-1)!] as { type?: string } | undefined;
      assert.equal(entry?.type, FIELD_TYPE[name], `${name} is mapped as ${FIELD_TYPE[name]}`);
    }
  });
});

describe('errors', () => {
  it('tells an unreachable cluster and one that does not answer apart, and the API takes both for unavailability', async () => {
    const held = new Set<Socket>();
    const silent: Server = createServer((socket) => held.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const cases = [
      { url: 'http://127.0.0.1:9', kind: 'unreachable' },
      { url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, kind: 'timeout' },
    ];
    try {
      for (const { url, kind } of cases) {
        const storage = createStorage({ ...es.connection, url, nodes: undefined, request_timeout_ms: 500 });
        try {
          assert.equal((await failure(storage.count(indexPattern(es.prefix)))).kind, kind, url);
          const store = new EventStore(storage, es.prefix, 500);
          await assert.rejects(store.health(), ElasticsearchUnavailableError);
        } finally {
          await storage.close();
        }
      }
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
    }
  });

  it('answers a bad query as the request’s fault (400)', async () => {
    const bad = await failure(es.storage.search({ index: indexPattern(es.prefix), allow_partial_search_results: false, query: { range: { [FIELD.timestamp]: { gte: 'not a date' } } } }));
    assert.equal(bad.kind, 'response');
    assert.equal(bad.statusCode, 400);
  });

  it('refuses writes to a closed index as the cluster’s state: the shipper retries them until it opens', async () => {
    const closed = dailyIndexName(es.prefix, new Date('2019-03-01T00:00:00Z'));
    assert.equal(await es.storage.createIndex(closed), true);
    assert.equal((await clusterRequest(es.connection, 'POST', `/${closed}/_close`)).status, 200);
    const item = { operation: `{"create":{"_index":"${closed}","_id":"closed-0"}}\n${JSON.stringify(toDocument(testRecord(0)))}` };
    const reasons: string[] = [];
    const outcome = await sendBulk(es.storage, [item], {
      retry: { initial_delay_ms: 10, max_delay_ms: 50 },
      signal: AbortSignal.timeout(30_000),
      onRetry: (reason) => {
        reasons.push(reason);
        if (reasons.length === 2) void clusterRequest(es.connection, 'POST', `/${closed}/_open?wait_for_active_shards=1`);
      },
    });
    assert.deepEqual({ ...outcome, retries: undefined }, { created: 1, duplicates: 0, rejected: [], retries: undefined });
    assert.ok(reasons.length >= 2);
    for (const reason of reasons) assert.match(reason, /index_closed_exception/);
  });
});
