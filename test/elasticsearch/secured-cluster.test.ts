// The product on a secured 3-node cluster, started once for this file: TLS from the cluster's own
// CA, the index template's one replica on every daily index (green), the least-privilege keys that
// `npm run setup-elasticsearch` makes and where each one's rights end, and a shipper and an API that
// index and list events with only those keys.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@elastic/elasticsearch';
import { createElasticsearchClient } from '../../common/elasticsearch-connection.ts';
import { applyRetention, createUpcomingIndices, installIndexTemplate } from '../../common/index-lifecycle.ts';
import { ElasticsearchStorage } from '../../common/storage/elasticsearch.ts';
import { dailyIndexName, indexPattern } from '../../common/proxy-event-document.ts';
import { setupAccess, type Part } from '../../ops/elasticsearch/access.ts';
import { startApi } from '../api/harness.ts';
import { appendRecords, testRecord } from '../helpers/records.ts';
import { waitFor } from '../helpers/wait.ts';
import { startTestCluster, type TestCluster } from '../helpers/secured-cluster.ts';
import { startShipper, waitForCount } from '../shipper/shipper-process.ts';

const PREFIX = 'cluster-events';
const OTHER_PREFIX = 'other-events';
const OLD_DAY = new Date('2020-01-01T00:00:00.000Z');

/** Resolves when `request` is refused for lack of privileges (403), fails on anything else. */
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
      assert.match(shipper.stderr(), /not allowed to install the index template/);
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
});
