// The bulk sender against the real node: created and already-there (409) items both settle as
// delivered, a document the mapping refuses comes back as rejected (the caller dead-letters it)
// while its neighbours are created, items the cluster refuses for its own state are retried alone
// until it takes them, and a request that cannot reach the cluster is retried whole.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dailyIndexName, indexPattern } from '../../common/proxy-event-document.ts';
import { createStorage } from '../../common/storage/create.ts';
import { installIndexTemplate } from '../../common/index-lifecycle.ts';
import { sendBulk, type BulkOperation, type BulkOptions } from '../../shipper/bulk.ts';
import { toDocument } from '../../shipper/document.ts';
import { clusterRequest, testElasticsearch, type TestElasticsearch } from '../helpers/elasticsearch.ts';
import { testRecord } from '../helpers/records.ts';
import { startTcpRelay } from '../helpers/tcp-relay.ts';

interface Item extends BulkOperation {
  id: string;
}

const RETRY = { initial_delay_ms: 10, max_delay_ms: 50 };

describe('bulk sender', () => {
  let es: TestElasticsearch;
  before(async () => {
    es = testElasticsearch('bulk');
    await installIndexTemplate(es.storage, es.prefix);
  });
  after(async () => es.cleanup());

  /** Items `from` ≤ i < `to`, each a create of record(i) into `index` under id `<tag>-i`. */
  const items = (tag: string, from: number, to: number, index = dailyIndexName(es.prefix, new Date('2026-01-15T00:00:00Z')), record = (i: number) => testRecord(i)): Item[] =>
    Array.from({ length: to - from }, (_, n) => {
      const id = `${tag}-${from + n}`;
      return { id, operation: `{"create":{"_index":"${index}","_id":"${id}"}}\n${JSON.stringify(toDocument(record(from + n)))}` };
    });
  /** An index made by hand, as an operator (or an older version) might have. */
  const createIndex = async (index: string, body: object) => {
    const { status, body: answer } = await clusterRequest(es.connection, 'PUT', `/${index}`, body);
    assert.equal(status, 200, JSON.stringify(answer));
  };
  const options = (onRetry: BulkOptions['onRetry'] = () => assert.fail('no retry expected')): BulkOptions => ({
    retry: RETRY,
    signal: AbortSignal.timeout(30_000),
    onRetry,
  });

  it('counts created items, and an item sent again (409) as a duplicate, not a failure', async () => {
    const batch = items('again', 0, 20);
    assert.deepEqual(await sendBulk(es.storage, batch, options()), { created: 20, duplicates: 0, rejected: [], retries: 0 });
    const mixed = [...batch.slice(0, 5), ...items('again', 20, 25)];
    assert.deepEqual(await sendBulk(es.storage, mixed, options()), { created: 5, duplicates: 5, rejected: [], retries: 0 });
    await es.storage.refresh(indexPattern(es.prefix));
    assert.equal(await es.storage.count(indexPattern(es.prefix), { ids: { values: [...batch, ...mixed].map((item) => item.id) } }), 25);
  });

  it('sends text beyond ASCII byte for byte: the body is counted and written in UTF-8', async () => {
    const names = ['Zoë Ærøskøbing', '東京の利用者', 'ok 👍🏽', 'a\u2028b'];
    const batch = items('utf8', 0, names.length, undefined, (n) => testRecord(n, { overrides: { user_name: names[n], path: `/${names[n]}` } }));
    assert.deepEqual(await sendBulk(es.storage, batch, options()), { created: names.length, duplicates: 0, rejected: [], retries: 0 });
    await es.storage.refresh(indexPattern(es.prefix));
    for (const [n, name] of names.entries()) {
      const { hits } = await es.storage.search<{ user?: { name?: string }; url?: { path?: string } }>({ index: indexPattern(es.prefix), query: { ids: { values: [`utf8-${n}`] } } });
      const source = hits.hits[0]?._source;
      assert.equal(source?.user?.name, name);
      assert.equal(source?.url?.path, `/${name}`);
    }
  });

  it('returns a document the mapping refuses as rejected, with the reason, and creates its neighbours', async () => {
    const strict = dailyIndexName(es.prefix, new Date('2020-01-01T00:00:00Z'));
    await createIndex(strict, { mappings: { properties: { url: { properties: { path: { type: 'long' } } } } } });
    const good = items('mapping', 0, 3);
    const refused = items('mapping', 3, 4, strict);
    const outcome = await sendBulk(es.storage, [good[0]!, refused[0]!, ...good.slice(1)], options());
    assert.equal(outcome.created, 3);
    assert.equal(outcome.retries, 0);
    assert.equal(outcome.rejected.length, 1);
    assert.equal(outcome.rejected[0]!.item.id, 'mapping-3');
    // Type and reason, and those of the cause: what filter_path keeps of the answer.
    assert.match(outcome.rejected[0]!.error, /^(document_parsing_exception|mapper_parsing_exception): .*url\.path.* \(\w+_exception: .+\)$/);
  });

  it('retries only the items the cluster refuses for its own state, until it takes them', async () => {
    const blocked = dailyIndexName(es.prefix, new Date('2021-06-01T00:00:00Z'));
    await createIndex(blocked, { settings: { 'index.blocks.write': true } });
    const retried: Array<{ reason: string; items: number }> = [];
    const batch = [...items('open', 0, 4), ...items('blocked', 0, 3, blocked)];
    const outcome = await sendBulk(es.storage, batch, options((reason, count) => {
      retried.push({ reason, items: count });
      // The operator lifts the block after the second refusal.
      if (retried.length === 2) void clusterRequest(es.connection, 'PUT', `/${blocked}/_settings`, { 'index.blocks.write': false });
    }));
    assert.ok(retried.length >= 2, `retried ${retried.length} times`);
    for (const retry of retried) {
      assert.equal(retry.items, 3, 'only the refused items are sent again');
      assert.match(retry.reason, /^403 cluster_block_exception/);
    }
    assert.deepEqual({ ...outcome, retries: undefined }, { created: 7, duplicates: 0, rejected: [], retries: undefined });
    assert.equal(outcome.retries, retried.length);
    await es.storage.refresh(blocked);
    assert.equal(await es.storage.count(blocked), 3);
  });

  it('retries the whole request while the cluster cannot be reached, and stops when aborted', async (t) => {
    const relay = await startTcpRelay(es.connection.url);
    t.after(() => relay.close());
    const storage = createStorage({ ...es.connection, url: relay.url, request_timeout_ms: 1_000 });
    t.after(() => storage.close());
    await relay.cut();
    const reasons: string[] = [];
    const outcome = await sendBulk(storage, items('away', 0, 5), options((reason) => {
      reasons.push(reason);
      if (reasons.length === 2) void relay.restore();
    }));
    assert.deepEqual({ ...outcome, retries: undefined }, { created: 5, duplicates: 0, rejected: [], retries: undefined });
    assert.ok(reasons.length >= 2 && reasons.every((reason) => /ConnectionError/.test(reason)), reasons.join('; '));

    await relay.cut();
    const abort = new AbortController();
    let attempts = 0;
    const sending = sendBulk(storage, items('away', 5, 10), {
      retry: RETRY,
      signal: abort.signal,
      onRetry: () => {
        if (++attempts === 3) abort.abort();
      },
    });
    await assert.rejects(sending, { name: 'AbortError' });
    assert.equal(attempts, 3);
  });
});
