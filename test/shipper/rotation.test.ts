// Lines written across many rotations, some while the shipper runs and some while it is stopped,
// land in Elasticsearch exactly once.

import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { testElasticsearch, type TestElasticsearch } from '../helpers/elasticsearch.ts';
import { accessLogName, appendRecords, recordLine, testRecord } from '../helpers/records.ts';
import { duplicatedEventIds, metricsLines, startShipper, waitForCount } from './shipper-process.ts';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('shipper across rotations', () => {
  let es: TestElasticsearch;
  let dir: string;
  before(async () => {
    es = testElasticsearch('rotation');
    dir = await mkdtemp(join(tmpdir(), 'shipper-rotation-'));
  });
  after(async () => {
    await es.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('indexes every line exactly once, through rotations while running and while stopped', async () => {
    const logs = join(dir, 'logs');
    const state = join(dir, 'state');
    const options = { logs, state, connection: es.connection, prefix: es.prefix, args: ['--batch-lines', '300'] };
    let next = 0;
    const write = (file: number, lines: number) => {
      appendRecords(logs, file, next, next + lines);
      next += lines;
    };
    await mkdir(logs, { recursive: true });
    write(1, 500); // a backlog before the first start

    let shipper = startShipper(options);
    for (let file = 2; file <= 6; file++) {
      write(file - 1, 50); // late lines in the file being rotated away
      for (let part = 0; part < 3; part++) {
        write(file, 200);
        await pause(100);
      }
    }
    // A line written in two halves: the shipper must wait for its newline.
    const split = recordLine(testRecord(next));
    await appendFile(join(logs, accessLogName(6)), split.slice(0, 40));
    await pause(500);
    await appendFile(join(logs, accessLogName(6)), split.slice(40));
    next++;
    assert.equal(await waitForCount(es.client, es.prefix, next), next);
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
    await pause(300);
    write(9, 100);
    write(10, 100);
    assert.equal(await waitForCount(es.client, es.prefix, next), next);
    assert.equal(await shipper.stop(), 0);
    assert.equal(metricsLines(shipper.stderr()).at(-1)!.duplicates, 0, 'a clean restart re-sends nothing');

    assert.doesNotMatch(shipper.stderr(), /bytes lost/, 'deleting a file that was read completely loses nothing');
    assert.deepEqual(await duplicatedEventIds(es.client, es.prefix), []);
  });
});
