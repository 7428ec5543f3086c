// What the SIEM output suites share: the shipper's configuration file with its outputs, the
// documents Elasticsearch holds by `_id` (the dedup key every output carries as event_id), and an
// output's numbers from the shipper's Prometheus metrics.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { indexPattern } from '../../common/proxy-event-document.ts';
import type { ShipperWorkspace } from '../helpers/shipper-workspace.ts';
import { scrapePrometheus } from '../helpers/prometheus.ts';
import { metricsUrl, type ShipperArgs, type ShipperRun } from './shipper-process.ts';

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
