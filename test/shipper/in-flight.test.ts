// Two bulk requests in flight, and one of them held at a relay in front of the real node while the
// next is answered: the checkpoint stays at the end of the last batch before the held one (a
// contiguous run of settled lines, never past a hole). A SIGKILL then loses nothing: the restart
// sends the held batch again (held again) and the later one (answered 409, a duplicate); a SIGTERM
// waits for the held request, settles it and the later one, and checkpoints the whole file, every
// line indexed once.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CHECKPOINT_FILE, loadCheckpoint } from '../../shipper/checkpoint.ts';
import { startRelay } from '../helpers/holding-relay.ts';
import { appendRecords, recordLine, testRecord } from '../helpers/records.ts';
import { shipperWorkspace } from '../helpers/shipper-workspace.ts';
import { waitFor } from '../helpers/wait.ts';
import { countDocuments, duplicatedEventIds, metricsLines, scrapeMetrics, startShipper, type ShipperRun } from './shipper-process.ts';

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

describe('shipper with bulk requests in flight', () => {
  it('checkpoints only up to a held batch while a later one is answered, loses nothing to a SIGKILL, and drains on SIGTERM', async (t) => {
    const workspace = await shipperWorkspace('in-flight');
    t.after(() => workspace.remove());
    const { es, logs, state } = workspace;
    const relay = await startRelay(es.connection.url);
    t.after(() => relay.close());
    const checkpointed = async () => Object.values((await loadCheckpoint(join(state, CHECKPOINT_FILE))).files).map((file) => file.offset);
    // The batches are cut by line count only: the flush interval must not cut one short.
    const options = { ...workspace.shipper(['--batch-lines', String(BATCH), '--flush-interval-ms', '600000', '--metrics-port', '0']), connection: { ...es.connection, url: relay.url } };
    const start = () => {
      const run = startShipper(options);
      t.after(() => run.kill());
      return run;
    };
    /** Until the shipper has the third batch's answer (`counter` at `expected`) while the second is held. */
    const thirdAnsweredWhileSecondHeld = (run: ShipperRun, counter: string, expected: number) =>
      waitFor('the third batch answered while the second is held', async () => relay.heldConnections() === 1 && (await scrapeMetrics(run))[counter] === expected, { timeoutMs: 60_000, intervalMs: 100 });

    appendRecords(logs, 1, 0, LINES);
    relay.hold(HELD_RECORD);
    const first = start();
    await waitFor('the first batch checkpointed', async () => (await checkpointed())[0] === bytesBefore(BATCH), { timeoutMs: 60_000, intervalMs: 100 });
    await thirdAnsweredWhileSecondHeld(first, 'shipper_indexed_total', 2 * BATCH);
    assert.equal(await countDocuments(es.storage, es.prefix), 2 * BATCH, 'the first and third batches are in Elasticsearch');
    assert.deepEqual(await checkpointed(), [bytesBefore(BATCH)], 'the checkpoint ends where the held batch begins');
    await first.kill(); // the held request dies with its connection: the node never gets it

    // From the checkpoint: the second batch again (held again), the third again (already there: 409).
    const second = start();
    await thirdAnsweredWhileSecondHeld(second, 'shipper_duplicates_total', BATCH);
    assert.deepEqual(await checkpointed(), [bytesBefore(BATCH)], 'still nothing past the held batch');
    second.child.kill('SIGTERM');
    await waitFor('the shipper to begin its stop', () => second.stderr().includes('stopping: flushing and checkpointing'));
    relay.release();
    assert.equal(await second.exited, 0);
    assert.deepEqual(await checkpointed(), [bytesBefore(LINES)], 'the stop settled both batches in flight');
    assert.equal(await countDocuments(es.storage, es.prefix), LINES);
    assert.deepEqual(await duplicatedEventIds(es.storage, es.prefix), []);
    const last = metricsLines(second.stderr()).at(-1)!;
    assert.deepEqual({ indexed: last.indexed, duplicates: last.duplicates }, { indexed: BATCH, duplicates: BATCH });
  });
});
