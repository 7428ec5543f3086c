// What the API does and logs when a request meets a condition of production rather than a bug:
// a client that goes away mid-request (499, its Elasticsearch request aborted, its point in time
// closed, never a 503), and a daily index whose shard is still starting (waited for, not a 503;
// one that never starts is still a 503 with its cause in words). Real node, real API, the API's
// real log lines.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dailyIndexName } from '../../common/proxy-event-document.ts';
import { SHARD_START_WAIT_MS } from '../../api/event-store.ts';
import { DAY_MS, loadDataset } from '../helpers/dataset.ts';
import { openPointsInTime, testElasticsearch, type TestElasticsearch } from '../helpers/elasticsearch.ts';
import { until } from '../proxy/helpers.ts';
import { TOKEN, pointsInTimeBackTo, startApi, type ApiHarness } from './harness.ts';
import { startRelay, type Relay } from '../helpers/holding-relay.ts';

const END = Date.parse('2026-06-01T00:00:00.000Z');
const LIST = '/api/events/proxy';
const STATS = '/api/events/proxy/stats';
const EXPORT = '/api/events/proxy/export';
const CLIENT_CLOSED = 499;

let es: TestElasticsearch;
/** Reads through the relay, so a test can hold its Elasticsearch requests in flight. */
let relayed: ApiHarness;
let relay: Relay;
/** Reads the node directly. */
let api: ApiHarness;

before(async () => {
  es = testElasticsearch('api-diagnostics');
  await loadDataset(es.connection, es.prefix, { count: 3_000, seed: 5, end: END, spanMs: 2 * DAY_MS });
  relay = await startRelay(es.connection.url);
  relayed = await startApi({ connection: { ...es.connection, url: relay.url }, prefix: es.prefix });
  api = await startApi({ connection: es.connection, prefix: es.prefix });
});
after(async () => {
  await relayed?.close();
  await api?.close();
  await relay?.close();
  await es?.cleanup();
});

/** No line of the log is a 503 or carries a stack. */
function assertNoUnavailableNorStack(harness: ApiHarness): void {
  for (const line of harness.logLines()) {
    assert.notEqual(line.status, 503, JSON.stringify(line));
    assert.doesNotMatch(JSON.stringify(line), /"stack"/);
  }
}

/**
 * Sends `path` through the relay, holds its Elasticsearch request whose first bytes contain
 * `match`, closes the client, and waits for the API to abort that request.
 */
async function abandonWhileHeld(path: string, match: string): Promise<void> {
  const aborted = relay.abortedWhileHeld();
  relay.hold(match);
  const client = new AbortController();
  try {
    const response = fetch(`${relayed.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: client.signal });
    await until(() => relay.heldConnections() > 0, `${match} to reach Elasticsearch`);
    client.abort();
    await assert.rejects(response);
    await until(() => relay.abortedWhileHeld() > aborted, `the API to abort its ${match} request`);
  } finally {
    relay.release();
  }
}

describe('a client that goes away mid-request', () => {
  for (const [name, path] of [
    ['list', `${LIST}?page_size=100`],
    ['stats', `${STATS}?interval=1h`],
  ] as const) {
    it(`${name}: is logged as 499 and its Elasticsearch search is aborted`, async () => {
      await abandonWhileHeld(path, '_search');
      const pathOnly = path.split('?')[0];
      await until(() => relayed.logLines().some((line) => line.path === pathOnly && line.status === CLIENT_CLOSED), 'the 499 line');
      const line = relayed.logLines().findLast((l) => l.path === pathOnly)!;
      assert.equal(line.level, 30);
      assert.equal(line.msg, 'client closed request');
      assert.equal(line.error, 'API_CLIENT_CLOSED');
      assert.equal(line.token, 'test');
      assert.match(line.requestId, /^[0-9a-f-]{36}$/);
      assertNoUnavailableNorStack(relayed);
    });
  }

  it('export: is logged as 499, its page search aborted and its point in time closed', async () => {
    const contexts = await openPointsInTime(es.connection);
    const aborted = relay.abortedWhileHeld();
    // The point in time opens (`_pit`); the first page's search is held.
    relay.hold('_search');
    const client = new AbortController();
    try {
      const response = await fetch(`${relayed.url}${EXPORT}?format=csv`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: client.signal });
      assert.equal(response.status, 200);
      const requestId = response.headers.get('x-request-id');
      await response.body!.getReader().read();
      await until(() => relay.heldConnections() > 0, 'the page search to reach Elasticsearch');
      client.abort();
      await until(() => relay.abortedWhileHeld() > aborted, 'the API to abort its page search');
      await until(() => relayed.logLines().some((line) => line.requestId === requestId), 'the request line');
      const lines = relayed.logLines().filter((line) => line.requestId === requestId);
      assert.equal(lines.length, 1, JSON.stringify(lines));
      assert.equal(lines[0]!.status, CLIENT_CLOSED);
      assert.equal(lines[0]!.msg, 'client closed request');
    } finally {
      relay.release();
    }
    await pointsInTimeBackTo(es.connection, contexts);
    assertNoUnavailableNorStack(relayed);
  });

  it('export before its point in time opened: 499, the opening aborted', async () => {
    await abandonWhileHeld(EXPORT, '_pit');
    await until(() => relayed.logLines().some((line) => line.path === EXPORT && line.status === CLIENT_CLOSED && line.ms !== undefined), 'the 499 line');
    assertNoUnavailableNorStack(relayed);
  });
});

describe('a daily index whose shard is still starting', () => {
  /** Creates the index with its shard held unassigned: the window a new index has, made as long as the test needs. */
  async function createUnstarted(index: string): Promise<void> {
    await es.client.indices.create({
      index,
      wait_for_active_shards: 0,
      settings: { number_of_replicas: 0, 'index.routing.allocation.include._name': 'no-such-node' },
    });
  }

  const STORM = 8;

  const healthWaits = async () => {
    const tasks = await es.client.tasks.list({ actions: 'cluster:monitor/health' });
    return Object.values(tasks.nodes ?? {}).reduce((n, node) => n + Object.keys(node.tasks ?? {}).length, 0);
  };

  it('is waited for: no 503 while the day\'s index is born under a storm of searches', async () => {
    const index = dailyIndexName(es.prefix, new Date(END + DAY_MS));
    const statuses: number[] = [];
    let storming = true;
    const storm = Array.from({ length: STORM }, async (_, i) => {
      while (storming) {
        const response = await api.get(i % 2 ? `${LIST}?page_size=10` : `${STATS}?interval=1h`);
        await response.arrayBuffer();
        statuses.push(response.status);
      }
    });
    try {
      await until(() => statuses.length >= STORM, 'the storm to start', 30_000);
      await createUnstarted(index);
      // Until searches have met the unstarted shard: they wait for it (a health request), or fail.
      let met = false;
      for (const deadline = Date.now() + 30_000; !met; ) {
        assert.ok(Date.now() < deadline, 'no search met the unstarted shard');
        met = statuses.includes(503) || (await healthWaits()) > 0;
      }
      await es.client.indices.putSettings({ index, settings: { 'index.routing.allocation.include._name': null } });
      await es.client.cluster.health({ index, wait_for_status: 'yellow', timeout: '30s' });
      const after = statuses.length;
      await until(() => statuses.length >= after + 16, 'searches after the shard started', 30_000);
    } finally {
      storming = false;
      await Promise.all(storm);
      await es.client.indices.delete({ index, ignore_unavailable: true });
    }
    assert.deepEqual([...new Set(statuses)], [200], `statuses: ${JSON.stringify(Object.groupBy(statuses, String))}`);
    assertNoUnavailableNorStack(api);
  });

  it('that never starts is a 503 after a bounded wait, its cause in one line without a stack', async () => {
    const index = dailyIndexName(es.prefix, new Date(END + 2 * DAY_MS));
    await createUnstarted(index);
    try {
      const started = performance.now();
      const response = await api.get(LIST);
      const elapsed = performance.now() - started;
      assert.equal(response.status, 503);
      assert.equal((await response.json()).error, 'API_ELASTICSEARCH_UNAVAILABLE');
      assert.ok(elapsed >= SHARD_START_WAIT_MS - 100 && elapsed < SHARD_START_WAIT_MS + 5_000, `took ${Math.round(elapsed)} ms`);
      const requestId = response.headers.get('x-request-id');
      await until(() => api.logLines().some((line) => line.requestId === requestId), 'the request line');
      const lines = api.logLines().filter((line) => line.requestId === requestId);
      assert.equal(lines.length, 1, JSON.stringify(lines));
      const [line] = lines;
      assert.equal(line!.level, 40);
      assert.equal(line!.status, 503);
      assert.equal(line!.error, 'API_ELASTICSEARCH_UNAVAILABLE');
      assert.match(line!.cause, new RegExp(`Elasticsearch answered 503 \\(search_phase_execution_exception: Search rejected due to missing shards \\[\\[${index}\\]`));
      assert.equal(line!.err, undefined);
    } finally {
      await es.client.indices.delete({ index, ignore_unavailable: true });
    }
  });
});
