// Files known by their content, end to end against the real node: the log directory and the
// shipper's state copied to another file system mid-stream (every device and inode number changes)
// and a checkpoint of the device+inode format migrated; in both, every line lands exactly once.

import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@elastic/elasticsearch';
import { accessRecordSchema } from '../../common/access-record.ts';
import { createUpcomingIndices, installIndexTemplate } from '../../common/index-lifecycle.ts';
import { dailyIndexName, FIELD, indexPattern } from '../../common/proxy-event-document.ts';
import { CHECKPOINT_FILE } from '../../shipper/checkpoint.ts';
import { documentId, fileOrigin } from '../../shipper/document-id.ts';
import { toDocument } from '../../shipper/document.ts';
import { deviceInodeOf } from '../../shipper/file-identity.ts';
import { mountTmpfs, unmount } from '../helpers/mount.ts';
import { testElasticsearch, type TestElasticsearch } from '../helpers/elasticsearch.ts';
import { accessLogName, appendRecords, testRecord } from '../helpers/records.ts';
import { countDocuments, duplicatedEventIds, metricsLines, startShipper, waitForCount } from './shipper-process.ts';

/** Request ids of every document under the prefix, sorted. */
async function indexedRequestIds(client: Client, prefix: string): Promise<string[]> {
  await client.indices.refresh({ index: indexPattern(prefix) });
  const response = await client.search<{ event: { id: string } }>({ index: indexPattern(prefix), size: 10_000, _source: [FIELD.eventId] });
  return response.hits.hits.map((hit) => hit._source!.event.id).sort();
}

const requestIds = (count: number) => Array.from({ length: count }, (_, i) => testRecord(i).id).sort();

describe('shipper file identity', () => {
  /** One index prefix per test, so each counts only its own documents. */
  let moved: TestElasticsearch;
  let migrated: TestElasticsearch;
  let dir: string;
  let mounted: string | undefined;
  before(async () => {
    moved = testElasticsearch('moved');
    migrated = testElasticsearch('migrate');
    dir = await mkdtemp(join(tmpdir(), 'shipper-identity-'));
  });
  after(async () => {
    if (mounted) unmount(mounted);
    await moved.cleanup();
    await migrated.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('indexes nothing twice and loses nothing when logs and state are copied to another file system mid-stream', async (t) => {
    const es = moved;
    const other = join(dir, 'other-fs');
    await mkdir(other);
    const refused = mountTmpfs(other, '64m');
    if (refused) {
      t.skip(`cannot mount a tmpfs at ${other} (${refused}): the test needs root or CAP_SYS_ADMIN`);
      return;
    }
    mounted = other;
    assert.notEqual((await stat(other)).dev, (await stat(dir)).dev, 'another device');

    const logs = join(dir, 'logs');
    const state = join(dir, 'state');
    await mkdir(logs);
    let next = 0;
    const write = (directory: string, file: number, lines: number) => {
      appendRecords(directory, file, next, next + lines);
      next += lines;
    };
    // Enough that a kill once the first documents are searchable is still mid-stream: the shipper
    // indexes a few thousand lines between two polls of the count (all of them stay under the
    // 10,000 hits one search returns).
    for (let file = 1; file <= 3; file++) write(logs, file, 3_000);
    const args = ['--batch-lines', '100'];
    const first = startShipper({ logs, state, connection: es.connection, prefix: es.prefix, args });
    let indexedBefore: number;
    try {
      // Killed, not stopped, once it is under way: the lines after its checkpoint are sent again
      // from the copy, and only the same ids make them duplicates rather than new documents.
      indexedBefore = await waitForCount(es.storage, es.prefix, 1, 30_000);
    } finally {
      await first.kill();
    }
    indexedBefore = await countDocuments(es.storage, es.prefix);
    assert.ok(indexedBefore < next, `killed mid-stream (${indexedBefore} of ${next} indexed)`);

    const movedLogs = join(other, 'logs');
    const movedState = join(other, 'state');
    await cp(logs, movedLogs, { recursive: true });
    await cp(state, movedState, { recursive: true });
    // The proxy carries on there: the live file grows and rotates.
    write(movedLogs, 3, 200);
    write(movedLogs, 4, 300);

    const second = startShipper({ logs: movedLogs, state: movedState, connection: es.connection, prefix: es.prefix, args });
    try {
      await waitForCount(es.storage, es.prefix, next, 90_000);
    } finally {
      assert.equal(await second.stop(), 0);
    }
    const last = metricsLines(second.stderr()).at(-1)!;
    t.diagnostic(`${indexedBefore} indexed before the move; after it: ${JSON.stringify(last)}`);
    assert.equal(await countDocuments(es.storage, es.prefix), next, 'every line once, none twice');
    assert.deepEqual(await indexedRequestIds(es.client, es.prefix), requestIds(next));
    assert.deepEqual(await duplicatedEventIds(es.storage, es.prefix), []);
    assert.equal(last.bytes_lost, 0);
  });

  it('migrates a checkpoint keyed by device and inode: offsets carried over, none of the lines indexed before sent again', async () => {
    const es = migrated;
    const logs = join(dir, 'migrate', 'logs');
    const state = join(dir, 'migrate', 'state');
    await mkdir(logs, { recursive: true });
    await mkdir(state);
    appendRecords(logs, 1, 0, 300);
    appendRecords(logs, 2, 300, 500);

    // What the previous version left: the first 120 lines of file 1 indexed under ids of device and
    // inode, and its checkpoint (version 1) just past them.
    const first = join(logs, accessLogName(1));
    const hint = deviceInodeOf(await stat(first, { bigint: true }));
    const lines = (await readFile(first, 'utf8')).split('\n').slice(0, 120);
    await installIndexTemplate(es.storage, es.prefix);
    await createUpcomingIndices(es.storage, es.prefix);
    const operations: object[] = [];
    let offset = 0;
    for (const line of lines) {
      const record = accessRecordSchema.parse(JSON.parse(line));
      operations.push({ create: { _index: dailyIndexName(es.prefix, new Date(record.time)), _id: documentId(record.proxy, fileOrigin(hint, 0), offset) } }, toDocument(record));
      offset += Buffer.byteLength(line) + 1;
    }
    const bulk = await es.client.bulk({ operations, refresh: true });
    assert.equal(bulk.errors, false);
    const size = (await stat(first)).size;
    await writeFile(join(state, CHECKPOINT_FILE), JSON.stringify({ version: 1, files: { [hint]: { name: accessLogName(1), generation: 0, offset, size } } }));

    const shipper = startShipper({ logs, state, connection: es.connection, prefix: es.prefix });
    try {
      await waitForCount(es.storage, es.prefix, 500);
    } finally {
      assert.equal(await shipper.stop(), 0);
    }
    assert.match(shipper.stderr(), /carrying its offsets over to content fingerprints/);
    const last = metricsLines(shipper.stderr()).at(-1)!;
    assert.equal(last.lines_read, 380, 'file 1 from its checkpoint, file 2 whole');
    assert.equal(await countDocuments(es.storage, es.prefix), 500);
    assert.deepEqual(await indexedRequestIds(es.client, es.prefix), requestIds(500));
    const written = JSON.parse(await readFile(join(state, CHECKPOINT_FILE), 'utf8')) as { version: number; files: Record<string, { offset: number }> };
    assert.equal(written.version, 2);
    assert.ok(!(hint in written.files), 'keyed by fingerprint now');
    assert.deepEqual(Object.values(written.files).map((entry) => entry.offset).sort((a, b) => a - b), [size, (await stat(join(logs, accessLogName(2)))).size].sort((a, b) => a - b));
  });
});
