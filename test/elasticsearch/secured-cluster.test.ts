// The product on a secured 3-node cluster, started once for this file (a start takes the better
// part of a minute on a busy 2-core machine): TLS from the cluster's own CA, the index template's
// one replica on every daily index (green), the least-privilege keys that `npm run
// setup-elasticsearch` makes and where each one's rights end, a shipper and an API that index and
// list events with only those keys, and basic auth. Then the fault scenario of `npm run
// bench:cluster`, short: 2 proxies and their shippers while the API is queried; a data node killed,
// then the whole cluster stopped and started again. Nothing may be lost or indexed twice, and the API
// answers 503 naming the unavailable cluster (never 500) while it is down. Last, the API's paging
// across a node loss: a cursor walk and an export each give every record exactly once, resuming
// where an answer says to.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@elastic/elasticsearch';
import { createElasticsearchClient, type ElasticsearchConnection } from '../../common/elasticsearch-connection.ts';
import { applyRetention, createUpcomingIndices, installIndexTemplate } from '../../common/index-lifecycle.ts';
import { ElasticsearchStorage } from '../../common/storage/elasticsearch.ts';
import { dailyIndexName, indexPattern } from '../../common/proxy-event-document.ts';
import { roleDescriptor, roleName, setupAccess, type Part } from '../../ops/elasticsearch/access.ts';
import { runClusterScenario, UNTIL_CLUSTER_STOPS } from '../../ops/bench/cluster/scenario.ts';
import { startApi, type ApiHarness } from '../api/harness.ts';
import { loadDataset } from '../helpers/dataset.ts';
import { appendRecords, testRecord } from '../helpers/records.ts';
import { assertExactlyOnce, cursorWalk, exportAll, nodeLossAfter, shardHolder } from '../helpers/reading-across-node-loss.ts';
import { waitFor } from '../helpers/wait.ts';
import { startTestCluster, type TestCluster } from '../helpers/secured-cluster.ts';
import { duplicatedEventIds, startShipper, waitForCount } from '../shipper/shipper-process.ts';

const PREFIX = 'cluster-events';
const BASIC_AUTH_PREFIX = 'basic-auth-events';
const UNTEMPLATED_PREFIX = 'untemplated-events';
const PAGING_PREFIX = 'paging-events';
/** Enough that an export cannot sit whole in the loopback connection's buffers before the node is killed. */
const RECORDS = 20_000;
const OTHER_PREFIX = 'other-events';
const OLD_DAY = new Date('2020-01-01T00:00:00.000Z');

/** Refused with 403, whether asked through the client (`meta.statusCode`) or the storage seam (`statusCode`). */
async function refused(what: string, request: Promise<unknown>): Promise<void> {
  await assert.rejects(request, (error: { meta?: { statusCode?: number }; statusCode?: number }) => {
    const status = error.meta?.statusCode ?? error.statusCode;
    assert.equal(status, 403, `${what}: expected 403, got ${status ?? String(error)}`);
    return true;
  });
}

/**
 * Bulk `create` of one event: the status of its item (201 created, 403 refused), or 403 when the
 * whole request is refused (a key with no write privilege on any index).
 */
async function createOne(client: Client, index: string, id: string): Promise<number> {
  try {
    const response = await client.bulk({ operations: [{ create: { _index: index, _id: id } }, { '@timestamp': new Date().toISOString() }] });
    return response.items[0]!.create!.status;
  } catch (error) {
    const status = (error as { meta?: { statusCode?: number } }).meta?.statusCode;
    if (status === undefined) throw error;
    return status;
  }
}

/** Every node's URL, so the API moves off a node that is gone. */
function everyNode(es: TestCluster): ElasticsearchConnection {
  const [first, ...others] = es.cluster.nodes;
  return { url: first!.url, nodes: others.map((node) => node.url), ca_file: es.cluster.caFile, request_timeout_ms: 30_000 };
}

/** A shipper config that retries within a second, so a test sees it go on soon after the cause is gone. */
async function retryFast(dir: string): Promise<string> {
  const file = join(dir, 'shipper.json');
  await writeFile(file, JSON.stringify({ retry: { initial_delay_ms: 100, max_delay_ms: 1_000 } }));
  return file;
}

describe('secured 3-node cluster', () => {
  let es: TestCluster;
  const keys = {} as Record<Part, Client>;
  let apiKeys: Record<Part, string>;
  before(async () => {
    es = await startTestCluster();
    const access = await setupAccess(es.adminClient, PREFIX);
    apiKeys = Object.fromEntries(access.map(({ part, apiKey }) => [part, apiKey])) as Record<Part, string>;
    for (const { part, apiKey } of access) keys[part] = createElasticsearchClient(es.withApiKey(apiKey));
    await installIndexTemplate(new ElasticsearchStorage(es.adminClient), OTHER_PREFIX);
    await es.adminClient.indices.create({ index: dailyIndexName(OTHER_PREFIX, OLD_DAY) });
  });
  after(async () => {
    await Promise.all(Object.values(keys).map((client) => client.close()));
    await es?.stop();
  });

  it('serves HTTPS only to clients that trust its CA and authenticate', async () => {
    assert.match(es.cluster.url, /^https:/);
    const anonymous = createElasticsearchClient({ url: es.cluster.url, ca_file: es.cluster.caFile, request_timeout_ms: 30_000 });
    await assert.rejects(anonymous.info(), (error: { meta?: { statusCode?: number } }) => error.meta?.statusCode === 401);
    await anonymous.close();
    const untrusting = createElasticsearchClient({ ...es.admin, ca_file: undefined });
    await assert.rejects(untrusting.info(), /certificate/i);
    await untrusting.close();
    const nodes = await es.adminClient.cat.nodes({ format: 'json', h: 'name' });
    assert.equal(nodes.length, 3);
  });

  it('gives each daily index one replica on another node, so the indices are green', async () => {
    const [today] = await createUpcomingIndices(new ElasticsearchStorage(keys.shipper), PREFIX);
    const health = await es.adminClient.cluster.health({ index: today, wait_for_status: 'green', timeout: '120s' });
    assert.equal(health.status, 'green');
    const shards = await es.adminClient.cat.shards({ index: today, format: 'json', h: 'prirep,state,node' });
    assert.deepEqual(shards.map((shard) => shard.prirep).sort(), ['p', 'r']);
    assert.ok(shards.every((shard) => shard.state === 'STARTED'));
    assert.notEqual(shards[0]!.node, shards[1]!.node, 'primary and replica on different nodes');
  });

  it("the shipper's key creates events and indices under its prefix, and nothing else", async () => {
    const today = dailyIndexName(PREFIX, new Date());
    assert.equal(await createOne(keys.shipper, today, 'shipper-created'), 201);
    assert.equal(await createOne(keys.shipper, dailyIndexName(OTHER_PREFIX, OLD_DAY), 'elsewhere'), 403, 'another prefix');
    const overwrite = await keys.shipper.bulk({ operations: [{ index: { _index: today, _id: 'shipper-created' } }, { '@timestamp': new Date().toISOString() }] });
    assert.equal(overwrite.items[0]!.index!.status, 403, 'overwriting an event');
    await refused('search', keys.shipper.search({ index: indexPattern(PREFIX) }));
    await refused('get', keys.shipper.get({ index: today, id: 'shipper-created' }));
    await refused('delete an index', keys.shipper.indices.delete({ index: today }));
    await refused('delete an event', keys.shipper.delete({ index: today, id: 'shipper-created' }));
    await refused('install a template', installIndexTemplate(new ElasticsearchStorage(keys.shipper), PREFIX));
  });

  it("the API's key reads and opens points in time under its prefix, and nothing else", async () => {
    const today = dailyIndexName(PREFIX, new Date());
    await es.adminClient.index({ index: today, id: 'api-readable', document: { '@timestamp': new Date().toISOString() }, refresh: 'wait_for' });
    const pit = await keys.api.openPointInTime({ index: indexPattern(PREFIX), keep_alive: '1m' });
    const page = await keys.api.search({ pit: { id: pit.id }, size: 100 });
    assert.ok(page.hits.hits.some((hit) => hit._id === 'api-readable'), 'the event is read through the point in time');
    await keys.api.closePointInTime({ id: pit.id });
    assert.equal((await keys.api.cluster.health()).number_of_nodes, 3, '/healthz can ask for the cluster health');
    assert.equal(await createOne(keys.api, today, 'api-created'), 403, 'write');
    await refused('delete an event', keys.api.delete({ index: today, id: 'shipper-created' }));
    await refused('delete an index', keys.api.indices.delete({ index: today }));
    await refused('search another prefix', keys.api.search({ index: dailyIndexName(OTHER_PREFIX, OLD_DAY) }));
    await refused('install a template', installIndexTemplate(new ElasticsearchStorage(keys.api), PREFIX));
  });

  it("retention's key deletes old indices under its prefix, and nothing else", async () => {
    const old = dailyIndexName(PREFIX, OLD_DAY);
    await es.adminClient.indices.create({ index: old });
    const result = await applyRetention(new ElasticsearchStorage(keys.retention), { prefix: PREFIX, days: 7 });
    assert.deepEqual(result.expired, [old]);
    assert.equal(await es.adminClient.indices.exists({ index: old }), false);
    await refused('search', keys.retention.search({ index: indexPattern(PREFIX) }));
    assert.equal(await createOne(keys.retention, dailyIndexName(PREFIX, new Date()), 'retention-created'), 403, 'write');
    await refused('delete another prefix', keys.retention.indices.delete({ index: dailyIndexName(OTHER_PREFIX, OLD_DAY) }));
    assert.equal(await es.adminClient.indices.exists({ index: dailyIndexName(OTHER_PREFIX, OLD_DAY) }), true);
  });

  it('a shipper and an API with only their keys index and list events over TLS', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'secured-cluster-'));
    const logs = join(dir, 'logs');
    await mkdir(logs);
    const prefix = PREFIX;
    const before = (await es.adminClient.count({ index: indexPattern(prefix) })).count;
    // Today's time, so the events land in the index this suite already checked is green.
    appendRecords(logs, 1, 0, 300, { time: new Date() });
    const shipper = startShipper({ logs, state: join(dir, 'state'), connection: es.withApiKey(apiKeys.shipper), prefix });
    const api = await startApi({ connection: es.withApiKey(apiKeys.api), prefix });
    try {
      assert.equal(await waitForCount(new ElasticsearchStorage(es.adminClient), prefix, before + 300, 120_000), before + 300);
      // The operator installed the template: one line says so, and nothing is retried or warned.
      assert.equal(shipper.stderr().match(/index template installed by setup-elasticsearch/g)?.length, 1, shipper.stderr());
      assert.doesNotMatch(shipper.stderr(), /retrying|"level":40/);
      // The count saw every document on one copy of the shard; the API's search may go to the
      // other, which refreshes on its own second: the event is searchable there a moment later.
      const body = await waitFor('the API to find the event the shipper indexed', async () => {
        const answer = await api.json(`/api/events/proxy?page_size=5&search=${encodeURIComponent(testRecord(299).id)}`);
        assert.equal(answer.status, 200);
        return answer.body.data.length > 0 && answer.body;
      }, { timeoutMs: 30_000, intervalMs: 200 });
      assert.equal(body.data.length, 1);
      assert.equal(body.data[0].id, testRecord(299).id);
    } finally {
      await api.close();
      assert.equal(await shipper.stop(), 0);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a shipper whose key may not install the template, before the operator has installed it, warns, reads nothing, and starts once it is there", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'secured-untemplated-'));
    const logs = join(dir, 'logs');
    await mkdir(logs);
    appendRecords(logs, 1, 0, 50);
    const role = roleName(UNTEMPLATED_PREFIX, 'shipper');
    const key = await es.adminClient.security.createApiKey({ name: role, role_descriptors: { [role]: roleDescriptor(UNTEMPLATED_PREFIX, 'shipper') } });
    const shipper = startShipper({ logs, state: join(dir, 'state'), connection: es.withApiKey(key.encoded), prefix: UNTEMPLATED_PREFIX, args: ['--config', await retryFast(dir)] });
    try {
      await waitFor('the shipper to name the missing template', () => /index template \S+ is not installed.*retrying/.test(shipper.stderr()), { timeoutMs: 60_000, intervalMs: 200 });
      assert.equal(await es.adminClient.indices.exists({ index: dailyIndexName(UNTEMPLATED_PREFIX, new Date()) }), false, 'no daily index without its mappings');
      await installIndexTemplate(new ElasticsearchStorage(es.adminClient), UNTEMPLATED_PREFIX);
      assert.equal(await waitForCount(new ElasticsearchStorage(es.adminClient), UNTEMPLATED_PREFIX, 50, 60_000), 50);
    } finally {
      assert.equal(await shipper.stop(), 0);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a shipper indexes through basic auth; the API answers 503 naming refused credentials (never 500) on a 401', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'secured-basic-auth-'));
    const logs = join(dir, 'logs');
    await mkdir(logs);
    appendRecords(logs, 1, 0, 300);
    const { url, ca_file, request_timeout_ms, username } = es.admin;
    const shipper = startShipper({ logs, state: join(dir, 'state'), connection: es.admin, prefix: BASIC_AUTH_PREFIX });
    // A restarted secured cluster answers every API key 401 until its security index is back; a wrong password is the same answer.
    const api = await startApi({ connection: { url, ca_file, request_timeout_ms, username, password: 'not-the-password' }, prefix: BASIC_AUTH_PREFIX });
    try {
      const storage = new ElasticsearchStorage(es.adminClient);
      assert.equal(await waitForCount(storage, BASIC_AUTH_PREFIX, 300, 120_000), 300, 'indexed through basic auth');
      assert.deepEqual(await duplicatedEventIds(storage, BASIC_AUTH_PREFIX), []);
      for (const path of ['/api/events/proxy', '/api/events/proxy/stats', '/api/events/proxy/export']) {
        const { status, body } = await api.json(path);
        assert.equal(status, 503, path);
        assert.equal(body.error, 'API_ELASTICSEARCH_UNAVAILABLE', path);
      }
      const line = api.logLines().find((logged) => logged.error === 'API_ELASTICSEARCH_UNAVAILABLE');
      assert.match(line?.cause ?? '', /401.*credentials were not accepted/);
    } finally {
      await api.close();
      assert.equal(await shipper.stop(), 0);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('loses and duplicates no line through a node kill and a full stop; the API answers 503 while the cluster is down', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cluster-faults-'));
    try {
      // The killed node is started with the others by the full stop: one node start less.
      const result = await runClusterScenario({
        cluster: es.cluster,
        dir,
        rate: 10,
        warmupSeconds: 3,
        faults: [
          { kind: 'data node killed', downSeconds: UNTIL_CLUSTER_STOPS },
          { kind: 'cluster stopped', downSeconds: 2 },
        ],
        gapSeconds: 3,
        drainTimeoutMs: 300_000,
        log: (line) => console.error(`[faults] ${line}`),
      });
      const { counts: _counts, answers, freshness: _freshness, ...figures } = result;
      console.error(`[faults] ${JSON.stringify(figures)}`);
      assert.ok(result.written > 0, 'the proxies wrote lines');
      assert.equal(result.missing, 0, 'every line written is indexed');
      assert.equal(result.duplicates, 0, 'no line is indexed twice');
      assert.equal(result.indexed, result.written);
      assert.ok(result.duringStop.answers > 0, 'the API was asked while the cluster was stopped');
      assert.deepEqual(result.duringStop.other, [], 'every answer during the stop is a 503 naming the unavailable cluster');
      assert.deepEqual(answers.filter((answer) => answer.status !== 200 && answer.status !== 503), [], 'no other answer than 200 or 503, ever');
      assert.ok(result.apiOkPercent >= 99, `API answers outside the stop: ${JSON.stringify(result.apiFailures)}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('paging across a node loss', () => {
    let api: ApiHarness;
    let expected: string[];
    before(async () => {
      const dataset = await loadDataset(es.admin, PAGING_PREFIX, { count: RECORDS, seed: 13 });
      expected = dataset.records.map((record) => record.id);
      await es.adminClient.cluster.health({ index: indexPattern(PAGING_PREFIX), wait_for_status: 'green', timeout: '300s' });
      const access = await setupAccess(es.adminClient, PAGING_PREFIX);
      api = await startApi({ connection: { ...everyNode(es), api_key: access.find((a) => a.part === 'api')!.apiKey }, prefix: PAGING_PREFIX });
    });
    after(async () => {
      await api?.close();
    });

    // One node loss that both span (a second would cost the cluster its quorum, a restart a minute).
    it('a cursor walk and an export each give every record once across a node loss: a failed page is a 503 asked again with the same cursor, a cut export names the cursor to resume from', async () => {
      const loss = nodeLossAfter(2, async () => {
        const victim = await shardHolder(es, PAGING_PREFIX);
        await victim.kill();
        return victim;
      });
      const [walked, exported] = await Promise.all([cursorWalk(api, loss.midway), exportAll(api, loss.midway)]);
      assert.ok(loss.victim(), 'a node was killed mid-walk and mid-export');
      assertExactlyOnce(walked, expected, 'cursor walk');
      assertExactlyOnce(exported, expected, 'export');
      const resumed = api.logLines().filter((line) => /resuming under a new point in time/.test(line.msg ?? '')).length;
      console.error(`[paging] export: ${exported.length} records, ${resumed} page(s) resumed under a new point in time`);
    });
  });
});
