// What the SIEM output suites share: the shipper's configuration file with its outputs, the
// documents Elasticsearch holds by `_id` (the dedup key every output carries as event_id), and an
// output's numbers from the shipper's Prometheus metrics.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@elastic/elasticsearch';
import { indexPattern } from '../../common/proxy-event-document.ts';
import { appendRecords } from '../helpers/records.ts';
import type { ShipperWorkspace } from '../helpers/shipper-workspace.ts';
import { waitFor } from '../helpers/wait.ts';
import { scrapePrometheus } from '../helpers/prometheus.ts';
import { metricsUrl, waitForCount, type ShipperArgs, type ShipperRun } from './shipper-process.ts';

/** Quick retries, so a receiver that comes back is noticed within a second. */
const RETRY = { initial_delay_ms: 100, max_delay_ms: 1_000 };

/** The workspace's shipper arguments, with a configuration file holding `outputs`. */
export async function withOutputs(workspace: ShipperWorkspace, outputs: unknown[]): Promise<ShipperArgs> {
  const file = join(workspace.dir, 'shipper.json');
  await writeFile(file, JSON.stringify({ retry: RETRY, outputs }));
  return workspace.shipper(['--config', file, '--metrics-port', '0']);
}

/** Every document under the prefix, by `_id`. */
export async function documentsById(client: Client, prefix: string): Promise<Map<string, Record<string, unknown>>> {
  await client.indices.refresh({ index: indexPattern(prefix) });
  const response = await client.search<Record<string, unknown>>({ index: indexPattern(prefix), size: 10_000, query: { match_all: {} } });
  return new Map(response.hits.hits.map((hit) => [hit._id!, hit._source!]));
}

export type OutputNumbers = Record<'lines_read' | 'delivered' | 'skipped' | 'retries' | 'bytes_lost' | 'lag_bytes', number>;

/** One output's counters and lag, from the shipper's Prometheus metrics. */
export async function outputNumbers(run: ShipperRun, output: string): Promise<OutputNumbers> {
  const samples = await scrapePrometheus(metricsUrl(run));
  const value = (name: string) => samples.get(`shipper_output_${name}`, { output }) ?? 0;
  return {
    lines_read: value('lines_read_total'),
    delivered: value('delivered_total'),
    skipped: value('skipped_total'),
    retries: value('retries_total'),
    bytes_lost: value('bytes_lost_total'),
    lag_bytes: value('lag_bytes'),
  };
}

export function sameIds(received: Iterable<string>, indexed: Map<string, unknown>): { missing: string[]; unknown: string[] } {
  const got = new Set(received);
  return { missing: [...indexed.keys()].filter((id) => !got.has(id)), unknown: [...got].filter((id) => !indexed.has(id)) };
}

/** Waits of the SIEM suites: receivers and a busy machine take their time. */
export const LONG_WAIT = { timeoutMs: 90_000, intervalMs: 100 };

export interface StoppableReceiver {
  /** Events it holds so far. */
  events(): Promise<number> | number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * The receiver stopped and started again mid-stream: 100 lines delivered first, then traffic keeps
 * coming (60 rounds of 25 lines, 100 ms apart); the receiver is stopped once the stream reaches
 * it, kept down until the output has retried twice and Elasticsearch has indexed past the stop
 * (an output being down holds Elasticsearch back in nothing), then started again. Returns how many
 * lines were written, once Elasticsearch holds them all.
 */
export async function outageMidStream(workspace: ShipperWorkspace, shipper: ShipperRun, output: string, receiver: StoppableReceiver): Promise<number> {
  const { es, logs } = workspace;
  const FIRST = 100;
  const ROUNDS = 60;
  const PER_ROUND = 25;
  const total = FIRST + ROUNDS * PER_ROUND;
  appendRecords(logs, 1, 0, FIRST);
  await waitFor('the receiver to hold the first events', async () => (await receiver.events()) >= FIRST, LONG_WAIT);
  let written = FIRST;
  const writing = (async () => {
    for (let round = 0; round < ROUNDS; round++) {
      appendRecords(logs, 1, written, written + PER_ROUND);
      written += PER_ROUND;
      await sleep(100);
    }
  })();
  await waitFor('the receiver to hold events of the stream', async () => (await receiver.events()) >= FIRST + 2 * PER_ROUND, LONG_WAIT);
  await receiver.stop();
  const writtenAtStop = written;
  await waitFor('the output to retry twice while the receiver is down', async () => (await outputNumbers(shipper, output)).retries >= 2, LONG_WAIT);
  assert.ok(written < total, 'the receiver was stopped while lines were still coming');
  await waitForCount(es.storage, es.prefix, writtenAtStop + 2 * PER_ROUND, 60_000);
  await receiver.start();
  await writing;
  assert.equal(await waitForCount(es.storage, es.prefix, total), total);
  return total;
}
