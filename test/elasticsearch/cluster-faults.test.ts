// The fault scenario of `npm run bench:cluster`, short: 2 proxies and their shippers into a secured
// 3-node cluster while the API is queried; a data node killed and started again, then the whole
// cluster stopped and started again. Nothing may be lost or indexed twice, and the API answers
// 503 naming the unavailable cluster (never 500) while it is down. Then the API's paging across a
// node loss: a cursor walk and an export each give every record exactly once, resuming where an
// answer says to.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ElasticsearchConnection } from '../../common/elasticsearch-connection.ts';
import { indexPattern } from '../../common/proxy-event-document.ts';
import { setupAccess } from '../../ops/elasticsearch/access.ts';
import type { ClusterNode } from '../../ops/elasticsearch/local-cluster.ts';
import { runClusterScenario } from '../../ops/bench/cluster/scenario.ts';
import { startApi, type ApiHarness } from '../api/harness.ts';
import { loadDataset } from '../helpers/dataset.ts';
import { startTestCluster, type TestCluster } from '../helpers/secured-cluster.ts';

const PAGING_PREFIX = 'paging-events';
/** Enough that an export cannot sit whole in the loopback connection's buffers before the node is killed. */
const RECORDS = 20_000;
/** How long a walk keeps asking again after a 503 before the test gives up on it. */
const RESUME_WITHIN_MS = 120_000;

/** Every node's URL, so the API moves off a node that is gone. */
function everyNode(es: TestCluster): ElasticsearchConnection {
  const [first, ...others] = es.cluster.nodes;
  return { url: first!.url, nodes: others.map((node) => node.url), ca_file: es.cluster.caFile, request_timeout_ms: 30_000 };
}

/** A node that holds shard copies of the prefix and is not the master: killing it moves data, not the election. */
async function shardHolder(es: TestCluster, prefix: string): Promise<ClusterNode> {
  const [master] = await es.adminClient.cat.master({ format: 'json' });
  const shards = await es.adminClient.cat.shards({ index: indexPattern(prefix), format: 'json', h: 'node' });
  const holders = new Set(shards.map((shard) => shard.node));
  return es.cluster.nodes.find((node) => node.name !== master!.node && holders.has(node.name))!;
}

function assertExactlyOnce(ids: string[], expected: string[], what: string): void {
  const seen = new Set(ids);
  assert.equal(seen.size, ids.length, `${what}: no record twice`);
  assert.deepEqual([...seen].sort(), [...expected].sort(), `${what}: every record`);
}

describe('secured 3-node cluster under faults', () => {
  let es: TestCluster;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cluster-faults-'));
    es = await startTestCluster();
  });
  after(async () => {
    await es?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('loses and duplicates no line through a node kill and a full stop; the API answers 503 while the cluster is down', async () => {
    const result = await runClusterScenario({
      cluster: es.cluster,
      dir: join(dir, 'scenario'),
      rate: 10,
      warmupSeconds: 5,
      faults: [
        { kind: 'data node killed', downSeconds: 5 },
        { kind: 'cluster stopped', downSeconds: 5 },
      ],
      gapSeconds: 5,
      drainTimeoutMs: 300_000,
      log: (line) => console.error(`[faults] ${line}`),
    });
    const { counts: _counts, answers, ...figures } = result;
    console.error(`[faults] ${JSON.stringify(figures)}`);
    assert.ok(result.written > 0, 'the proxies wrote lines');
    assert.equal(result.missing, 0, 'every line written is indexed');
    assert.equal(result.duplicates, 0, 'no line is indexed twice');
    assert.equal(result.indexed, result.written);
    assert.ok(result.duringStop.answers > 0, 'the API was asked while the cluster was stopped');
    assert.deepEqual(result.duringStop.other, [], 'every answer during the stop is a 503 naming the unavailable cluster');
    assert.deepEqual(answers.filter((answer) => answer.status !== 200 && answer.status !== 503), [], 'no other answer than 200 or 503, ever');
    assert.ok(result.apiOkPercent >= 99, `API answers outside the stop: ${JSON.stringify(result.apiFailures)}`);
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

    it('a cursor walk gives every record once: a page the node loss fails is a 503, asked again with the same cursor', async () => {
      const ids: string[] = [];
      let cursor: string | null = '';
      let pages = 0;
      let victim: ClusterNode | undefined;
      let unavailable = 0;
      while (cursor !== null) {
        if (pages === 3 && !victim) {
          victim = await shardHolder(es, PAGING_PREFIX);
          await victim.kill();
        }
        const { status, body }: { status: number; body: any } = await api.json(`/api/events/proxy?page_size=100${cursor ? `&cursor=${cursor}` : ''}`);
        if (status === 503) {
          assert.equal(body.error, 'API_ELASTICSEARCH_UNAVAILABLE');
          assert.ok(++unavailable < RESUME_WITHIN_MS / 1_000, 'the walk resumes once the cluster has reassigned the shards');
          await new Promise((resolve) => setTimeout(resolve, 1_000));
          continue;
        }
        assert.equal(status, 200, JSON.stringify(body));
        ids.push(...body.data.map((record: { id: string }) => record.id));
        cursor = body.next_cursor;
        pages++;
      }
      assertExactlyOnce(ids, expected, 'cursor walk');
      victim!.start();
      await es.cluster.waitForNodes(3);
    });

    it('an export gives every record once, going on after the node loss or naming the cursor to resume from', async () => {
      await es.adminClient.cluster.health({ index: indexPattern(PAGING_PREFIX), wait_for_status: 'green', timeout: '300s' });
      const ids: string[] = [];
      let cursor: string | undefined;
      let victim: ClusterNode | undefined;
      const deadline = Date.now() + RESUME_WITHIN_MS;
      for (;;) {
        assert.ok(Date.now() < deadline, 'the export completes once the cluster has reassigned the shards');
        const response = await api.get(`/api/events/proxy/export${cursor ? `?cursor=${cursor}` : ''}`);
        if (response.status === 503) {
          assert.equal((await response.json()).error, 'API_ELASTICSEARCH_UNAVAILABLE');
          await new Promise((resolve) => setTimeout(resolve, 1_000));
          continue;
        }
        assert.equal(response.status, 200);
        const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
        let text = '';
        let cut = false;
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            text += value;
            // Mid-export, once: the pages already read came from the point in time's shard copies.
            if (!victim && text.split('\n').length > 1_500) {
              victim = await shardHolder(es, PAGING_PREFIX);
              await victim.kill();
            }
          }
        } catch {
          cut = true;
        }
        const lines = text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
        const last = lines.at(-1);
        if (last?.error === undefined) {
          assert.equal(cut, false, 'a download that was cut ends with the line that says why');
          ids.push(...lines.map((record) => record.id));
          break;
        }
        assert.equal(last.error, 'API_EXPORT_INTERRUPTED');
        assert.equal(cut, true, 'an interrupted export does not look complete');
        const records = lines.slice(0, -1);
        ids.push(...records.map((record) => record.id));
        assert.equal(last.records, ids.length, 'the interruption counts every record sent, across resumptions');
        cursor = last.cursor ?? undefined;
      }
      assert.ok(victim, 'a node was killed mid-export');
      assertExactlyOnce(ids, expected, 'export');
      const resumed = api.logLines().filter((line) => /resuming under a new point in time/.test(line.msg ?? '')).length;
      console.error(`[paging] export: ${ids.length} records, ${resumed} page(s) resumed under a new point in time`);
    });
  });
});
