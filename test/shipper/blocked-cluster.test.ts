// A cluster that refuses writes for its own reasons (a flood-stage disk block, a closed index) is
// waited out like an outage: the shipper retries with backoff, dead-letters nothing, keeps the
// checkpoint before the refused lines, says so once when it starts and once when it ends, and
// indexes every line exactly once when the cluster takes writes again.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { dailyIndexName, FIELD, indexPattern } from '../../common/proxy-event-document.ts';
import { CHECKPOINT_FILE } from '../../shipper/checkpoint.ts';
import { DEAD_LETTER_FILE } from '../../shipper/dead-letter.ts';
import { testElasticsearch, type TestElasticsearch } from '../helpers/elasticsearch.ts';
import { accessLogName, appendRecords, testRecord } from '../helpers/records.ts';
import { startShipper, waitForCount, type ShipperRun } from './shipper-process.ts';

const FIRST = 200;
const WHILE_BLOCKED = 300;

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function checkpointOffset(state: string): Promise<number> {
  const checkpoint = JSON.parse(await readFile(join(state, CHECKPOINT_FILE), 'utf8')) as { files: Record<string, { offset: number }> };
  return Math.max(0, ...Object.values(checkpoint.files).map((entry) => entry.offset));
}

function diagnostics(shipper: ShipperRun): Array<Record<string, unknown>> {
  return shipper.stderr().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('shipper against a cluster that refuses writes', () => {
  const suites: TestElasticsearch[] = [];
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shipper-blocked-'));
  });
  after(async () => {
    for (const es of suites) await es.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  async function waitOut(name: string, refuse: (client: TestElasticsearch['client'], index: string) => Promise<unknown>, allow: (client: TestElasticsearch['client'], index: string) => Promise<unknown>, expected: RegExp) {
    const es = testElasticsearch(name);
    suites.push(es);
    const logs = join(dir, `${name}-logs`);
    const state = join(dir, `${name}-state`);
    await mkdir(logs);
    appendRecords(logs, 1, 0, FIRST);
    const shipper = startShipper({ logs, state, connection: es.connection, prefix: es.prefix });
    try {
      await waitForCount(es.storage, es.prefix, FIRST);
      const file = join(logs, accessLogName(1));
      const indexedUpTo = (await stat(file)).size;
      await until(async () => (await checkpointOffset(state)) === indexedUpTo, 'the checkpoint after the first lines');

      const index = dailyIndexName(es.prefix, new Date(testRecord(0).time));
      await refuse(es.client, index);
      appendRecords(logs, 1, FIRST, FIRST + WHILE_BLOCKED);
      await until(() => diagnostics(shipper).some((line) => line.msg === 'bulk request not accepted, retrying with backoff'), 'the retry line');
      await sleep(2_000); // several retries while refused
      assert.equal(await checkpointOffset(state), indexedUpTo, 'the checkpoint stays before the refused lines');

      await allow(es.client, index);
      await waitForCount(es.storage, es.prefix, FIRST + WHILE_BLOCKED);
      await until(async () => (await checkpointOffset(state)) === (await stat(file)).size, 'the checkpoint at the end of the file');
      assert.equal(await shipper.stop(), 0);
    } finally {
      if (shipper.child.exitCode === null) await shipper.kill();
    }

    await es.client.indices.refresh({ index: indexPattern(es.prefix) });
    const ids = await es.client.search<Record<string, unknown>>({ index: indexPattern(es.prefix), size: 10_000, _source: false, docvalue_fields: [FIELD.eventId] });
    const seen = ids.hits.hits.map((hit) => (hit.fields![FIELD.eventId] as string[])[0]);
    assert.equal(seen.length, FIRST + WHILE_BLOCKED);
    assert.equal(new Set(seen).size, FIRST + WHILE_BLOCKED, 'every line indexed once');
    const deadLetters = await readFile(join(state, DEAD_LETTER_FILE), 'utf8').catch(() => '');
    assert.equal(deadLetters, '', 'nothing dead-lettered');

    const lines = diagnostics(shipper);
    const started = lines.filter((line) => line.msg === 'bulk request not accepted, retrying with backoff');
    assert.equal(started.length, 1, 'one line when the refusal starts');
    assert.match(String(started[0]!.reason), expected);
    assert.equal(lines.filter((line) => line.msg === 'bulk requests accepted again').length, 1, 'one line when it ends');
    assert.ok(!shipper.stderr().includes('"stack"'), 'no stack for a refusing cluster');
  }

  it('waits out a flood-stage read_only_allow_delete block (429 cluster_block_exception)', async () => {
    await waitOut(
      'flood',
      (client, index) => client.indices.putSettings({ index, settings: { 'index.blocks.read_only_allow_delete': true } }),
      (client, index) => client.indices.putSettings({ index, settings: { 'index.blocks.read_only_allow_delete': null } }),
      /^429 cluster_block_exception: .*read-only-allow-delete/,
    );
  });

  it('waits out a closed index (index_closed_exception)', async () => {
    await waitOut(
      'closed',
      (client, index) => client.indices.close({ index }),
      (client, index) => client.indices.open({ index, wait_for_active_shards: 1 }),
      /index_closed_exception/,
    );
  });
});
