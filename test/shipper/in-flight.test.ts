// Two bulk requests in flight, and one of them held at a relay in front of the real node while the
// next is answered: the checkpoint stays at the end of the last batch before the held one (a
// contiguous run of settled lines, never past a hole), so a SIGKILL then loses nothing and indexes
// nothing twice; and a SIGTERM waits for the held request, settles it and the later one, and
// checkpoints the whole file.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CHECKPOINT_FILE, loadCheckpoint } from '../../shipper/checkpoint.ts';
import { startRelay } from '../helpers/holding-relay.ts';
import { appendRecords, recordLine, testRecord } from '../helpers/records.ts';
import { shipperWorkspace, type ShipperWorkspace } from '../helpers/shipper-workspace.ts';
import { waitFor } from '../helpers/wait.ts';
import { countDocuments, duplicatedEventIds, metricsLines, scrapeMetrics, startShipper, waitForCount, type ShipperRun } from './shipper-process.ts';

const BATCH = 100;
const LINES = 3 * BATCH;
/** The second batch's bulk request is the one held: it carries record `req-100`'s document. */
const HELD_RECORD = `"id":"req-${BATCH}"`;

/** Bytes of the log file up to record `n` (exclusive). */
function bytesBefore(n: number): number {
  let bytes = 0;
  for (let i = 0; i < n; i++) bytes += Buffer.byteLength(recordLine(testRecord(i)));
  return bytes;
}

async function checkpointedOffsets(state: string): Promise<number[]> {
  const checkpoint = await loadCheckpoint(join(state, CHECKPOINT_FILE));
  return Object.values(checkpoint.files).map((file) => file.offset);
}

/**
 * Starts the shipper through a relay that holds the second batch's request, with three batches
 * of backlog, and waits until the first and third batches are indexed and counted by the shipper
 * (it has their answers) while the second is still held.
 */
async function holdSecondBatch(workspace: ShipperWorkspace, t: { after(fn: () => unknown): void }): Promise<{ shipper: ShipperRun; release(): void }> {
  const { es, logs } = workspace;
  const relay = await startRelay(es.connection.url);
  t.after(() => relay.close());
  appendRecords(logs, 1, 0, LINES);
  relay.hold(HELD_RECORD);
  // The batches are cut by line count only: the flush interval must not cut one short.
  const args = ['--batch-lines', String(BATCH), '--flush-interval-ms', '600000', '--metrics-port', '0'];
  const shipper = startShipper({ ...workspace.shipper(args), connection: { ...es.connection, url: relay.url } });
  t.after(() => shipper.kill());
  await waitFor(
    'the first and third batches indexed while the second is held',
    async () => relay.heldConnections() === 1 && (await scrapeMetrics(shipper)).shipper_indexed_total === 2 * BATCH,
    { timeoutMs: 60_000 },
  );
  return { shipper, release: () => relay.release() };
}

describe('shipper with bulk requests in flight', () => {
  it('checkpoints only up to a held batch while a later one is answered; after SIGKILL nothing is lost or indexed twice', async (t) => {
    const workspace = await shipperWorkspace('in-flight-kill');
    t.after(() => workspace.remove());
    const { es, state } = workspace;
    const { shipper } = await holdSecondBatch(workspace, t);

    assert.equal(await countDocuments(es.client, es.prefix), 2 * BATCH, 'the third batch is in Elasticsearch');
    assert.deepEqual(await checkpointedOffsets(state), [bytesBefore(BATCH)], 'the checkpoint ends where the held batch begins');
    await shipper.kill(); // the held request dies with its connection: the node never gets it

    const again = startShipper(workspace.shipper());
    t.after(() => again.kill());
    assert.equal(await waitForCount(es.client, es.prefix, LINES), LINES);
    assert.equal(await again.stop(), 0);
    assert.deepEqual(await checkpointedOffsets(state), [bytesBefore(LINES)]);
    assert.deepEqual(await duplicatedEventIds(es.client, es.prefix), []);
    // The held batch is indexed now; the third, taken before the kill but not checkpointed, is sent again and answered 409.
    const last = metricsLines(again.stderr()).at(-1)!;
    assert.deepEqual({ indexed: last.indexed, duplicates: last.duplicates }, { indexed: BATCH, duplicates: BATCH });
  });

  it('on SIGTERM waits for the held batch, settles it and the later one, and checkpoints the whole file', async (t) => {
    const workspace = await shipperWorkspace('in-flight-stop');
    t.after(() => workspace.remove());
    const { es, state } = workspace;
    const { shipper, release } = await holdSecondBatch(workspace, t);

    shipper.child.kill('SIGTERM');
    await waitFor('the shipper to begin its stop', () => shipper.stderr().includes('stopping: flushing and checkpointing'));
    assert.deepEqual(await checkpointedOffsets(state), [bytesBefore(BATCH)], 'nothing past the held batch before it is answered');
    release();
    assert.equal(await shipper.exited, 0);
    assert.deepEqual(await checkpointedOffsets(state), [bytesBefore(LINES)]);
    assert.equal(await countDocuments(es.client, es.prefix), LINES);
    assert.deepEqual(await duplicatedEventIds(es.client, es.prefix), []);
  });
});
