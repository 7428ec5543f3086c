// The shipper killed with SIGKILL at random points while it indexes a growing, rotating log, and
// restarted each time: every line still lands exactly once (at-least-once delivery, ids by origin).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { appendRecords } from '../helpers/records.ts';
import { shipperWorkspace, type ShipperWorkspace } from '../helpers/shipper-workspace.ts';
import { countDocuments, duplicatedEventIds, metricsLines, startShipper, waitForCount } from './shipper-process.ts';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Random kill points, each with up to `batch.max_in_flight` requests out; in-flight.test.ts kills one with a batch held on purpose. */
const KILLS = 3;
/** A backlog added before each run, so every kill lands while there is work in progress. */
const BACKLOG_PER_RUN = 1_500;

describe('shipper killed with SIGKILL', () => {
  let workspace: ShipperWorkspace;
  before(async () => (workspace = await shipperWorkspace('crash')));
  after(() => workspace.remove());

  it('still indexes every line exactly once after restarts', async (t) => {
    const { es, logs } = workspace;
    const options = workspace.shipper(['--batch-lines', '150']);
    let next = 0;
    let file = 1;
    const write = (lines: number) => {
      appendRecords(logs, file, next, next + lines);
      next += lines;
    };
    let writing = true;
    // Besides the backlogs, a steady trickle into the live file while the shipper works and dies.
    const writer = (async () => {
      while (writing) {
        write(10);
        await pause(50);
      }
    })();

    const seeds: number[] = [];
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        file++; // a rotation per run
        write(BACKLOG_PER_RUN);
        const shipper = startShipper(options);
        try {
          // Kill it while it works: once it has indexed something in this run, at a random moment.
          const indexedBefore = await countDocuments(es.storage, es.prefix).catch(() => 0);
          await waitForCount(es.storage, es.prefix, indexedBefore + 1, 30_000);
          const delay = Math.floor(Math.random() * 600);
          seeds.push(delay);
          await pause(delay);
        } finally {
          await shipper.kill();
        }
      }
    } finally {
      writing = false;
      await writer;
    }
    t.diagnostic(`after ${KILLS} kills: ${await countDocuments(es.storage, es.prefix)} of ${next} lines indexed`);
    const shipper = startShipper(options);
    try {
      assert.equal(await waitForCount(es.storage, es.prefix, next, 90_000), next, `kills ${seeds.join(', ')} ms after first progress`);
      assert.deepEqual(await duplicatedEventIds(es.storage, es.prefix), []);
    } finally {
      assert.equal(await shipper.stop(), 0);
    }
    t.diagnostic(`last run: ${JSON.stringify(metricsLines(shipper.stderr()).at(-1))}`);
  });
});
