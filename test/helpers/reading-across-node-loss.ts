// Reading across a node loss, for the cluster suite: a cursor walk and an export through the API
// that span one killed shard holder, and the check that each gave every record exactly once.

import assert from 'node:assert/strict';
import { indexPattern } from '../../common/proxy-event-document.ts';
import type { ClusterNode } from '../../ops/elasticsearch/local-cluster.ts';
import type { ApiHarness } from '../api/harness.ts';
import type { TestCluster } from './secured-cluster.ts';

/** How long a walk keeps asking again after a 503, and an export resuming, before the test gives up. */
const RESUME_WITHIN_MS = 120_000;

/** A node that holds shard copies of the prefix and is not the master: killing it moves data, not the election. */
export async function shardHolder(es: TestCluster, prefix: string): Promise<ClusterNode> {
  const [master] = await es.adminClient.cat.master({ format: 'json' });
  const shards = await es.adminClient.cat.shards({ index: indexPattern(prefix), format: 'json', h: 'node' });
  const holders = new Set(shards.map((shard) => shard.node));
  return es.cluster.nodes.find((node) => node.name !== master!.node && holders.has(node.name))!;
}

/**
 * A node loss that several readers span: each calls the returned function at its midpoint, and the
 * last to arrive kills a shard holder; every one of them goes on once it is dead.
 */
export function nodeLossAfter(readers: number, kill: () => Promise<ClusterNode>): { midway(): Promise<void>; victim(): ClusterNode | undefined } {
  let arrived = 0;
  let victim: ClusterNode | undefined;
  let lost: (error?: unknown) => void;
  const dead = new Promise<void>((resolve, reject) => (lost = (error) => (error ? reject(error) : resolve())));
  return {
    async midway() {
      if (++arrived === readers) {
        kill().then((node) => {
          victim = node;
          lost();
        }, lost);
      }
      await dead;
    },
    victim: () => victim,
  };
}

export function assertExactlyOnce(ids: string[], expected: string[], what: string): void {
  const seen = new Set(ids);
  assert.equal(seen.size, ids.length, `${what}: no record twice`);
  assert.deepEqual([...seen].sort(), [...expected].sort(), `${what}: every record`);
}

/** Walks every page by cursor; a page the cluster cannot answer is a 503, asked again with the same cursor. */
export async function cursorWalk(api: ApiHarness, midway: () => Promise<void>): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = '';
  let pages = 0;
  const deadline = Date.now() + RESUME_WITHIN_MS;
  while (cursor !== null) {
    if (pages === 3) await midway();
    const { status, body }: { status: number; body: any } = await api.json(`/api/events/proxy?page_size=100${cursor ? `&cursor=${cursor}` : ''}`);
    if (status === 503) {
      assert.equal(body.error, 'API_ELASTICSEARCH_UNAVAILABLE');
      assert.ok(Date.now() < deadline, 'the walk resumes once the cluster has reassigned the shards');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      continue;
    }
    assert.equal(status, 200, JSON.stringify(body));
    ids.push(...body.data.map((record: { id: string }) => record.id));
    cursor = body.next_cursor;
    pages++;
  }
  return ids;
}

/** Downloads the export, going on from the cursor an interrupted download names. */
export async function exportAll(api: ApiHarness, midway: () => Promise<void>): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let halfway = false;
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
        if (!halfway && text.split('\n').length > 1_500) {
          halfway = true;
          await midway();
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
      return ids;
    }
    assert.equal(last.error, 'API_EXPORT_INTERRUPTED');
    assert.equal(cut, true, 'an interrupted export does not look complete');
    const records = lines.slice(0, -1);
    ids.push(...records.map((record) => record.id));
    assert.equal(last.records, ids.length, 'the interruption counts every record sent, across resumptions');
    cursor = last.cursor ?? undefined;
  }
}
