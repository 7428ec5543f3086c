// Lines written across many rotations, some while the shipper runs and some while it is stopped,
// land in Elasticsearch exactly once.

import assert from 'node:assert/strict';
import { appendFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { accessLogName, appendRecords, recordLine, testRecord } from '../helpers/records.ts';
import { shipperWorkspace, type ShipperWorkspace } from '../helpers/shipper-workspace.ts';
import { waitFor } from '../helpers/wait.ts';
import { countDocuments, duplicatedEventIds, metricsLines, scrapeMetrics, startShipper, waitForCount } from './shipper-process.ts';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('shipper across rotations', () => {
  let workspace: ShipperWorkspace;
  before(async () => (workspace = await shipperWorkspace('rotation')));
  after(() => workspace.remove());

  it('indexes every line exactly once, through rotations while running and while stopped', async (t) => {
    const { es, logs } = workspace;
    const options = workspace.shipper(['--batch-lines', '300', '--metrics-port', '0']);
    let next = 0;
    const write = (file: number, lines: number) => {
      appendRecords(logs, file, next, next + lines);
      next += lines;
    };
    write(1, 500); // a backlog before the first start

    let shipper = startShipper(options);
    // A failed assertion must not leave a shipper running (the suite would wait for it).
    t.after(() => shipper.kill());
    for (let file = 2; file <= 6; file++) {
      write(file - 1, 50); // late lines in the file being rotated away
      for (let part = 0; part < 3; part++) {
        write(file, 200);
        await pause(100);
      }
    }
    // A line written in two halves: the shipper must wait for its newline. It has met the first
    // half once every whole line before it is read and acknowledged and only the half is left.
    const split = recordLine(testRecord(next));
    const half = 40;
    await appendFile(join(logs, accessLogName(6)), split.slice(0, half));
    const lines = next;
    await waitFor(`every whole line acknowledged and the ${half}-byte half line pending`, async () => {
      const metrics = await scrapeMetrics(shipper);
      return metrics.shipper_lines_read_total === lines && metrics.shipper_lag_bytes === half;
    }, { timeoutMs: 60_000 });
    assert.equal(await countDocuments(es.storage, es.prefix), next, 'the half line is not indexed');
    await appendFile(join(logs, accessLogName(6)), split.slice(half));
    next++;
    assert.equal(await waitForCount(es.storage, es.prefix, next), next);
    assert.equal(await shipper.stop(), 0, 'SIGTERM exits 0');
    const firstRun = metricsLines(shipper.stderr()).at(-1)!;
    assert.equal(firstRun.lines_read, next, 'the final metrics line counts every line read');

    // Stopped: the live file grows, three rotations happen, and retention deletes the oldest file.
    write(6, 100);
    write(7, 300);
    write(8, 300);
    write(9, 150);
    await unlink(join(logs, accessLogName(1)));
    shipper = startShipper(options);
    const restarted = shipper;
    await waitFor('the restarted shipper reading', async () => ((await scrapeMetrics(restarted)).shipper_lines_read_total ?? 0) > 0, { timeoutMs: 30_000 });
    write(9, 100);
    write(10, 100);
    assert.equal(await waitForCount(es.storage, es.prefix, next), next);
    assert.equal(await shipper.stop(), 0);
    assert.equal(metricsLines(shipper.stderr()).at(-1)!.duplicates, 0, 'a clean restart re-sends nothing');

    assert.doesNotMatch(shipper.stderr(), /bytes lost/, 'deleting a file that was read completely loses nothing');
    assert.deepEqual(await duplicatedEventIds(es.storage, es.prefix), []);
  });
});
