// Warming the node before anything is timed: a fresh node's first index and first bulks are several
// times slower (cluster-state updates, JIT, caches), and the first timed round came out an outlier.
// The same warm-up load of raw `_bulk` requests is sent again and again into a throwaway index until
// two loads in a row index at rates within 10% of each other: from then on the node's rate is
// its own, not its warming's.

import { join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { installIndexTemplate } from '../../../common/index-lifecycle.ts';
import { ElasticsearchStorage } from '../../../common/storage/elasticsearch.ts';
import { indexPattern } from '../../../common/proxy-event-document.ts';
import { dropIndices, waitForCount } from '../peers/delivery.ts';
import { writeLogs } from './log-writer.ts';
import { prepareBulkBodies, sendBodies } from './raw-loader.ts';

const WARM_UP_LINES = 50_000;
/** Two consecutive rates this close (relative to the larger) count as stable. */
const STABLE_WITHIN = 0.1;
const MAX_LOADS = 10;
const STALL_MS = 20_000;

export interface WarmUp {
  /** lines/s of each warm-up load, in order. */
  rates: number[];
  stable: boolean;
}

export async function warmUntilStable(client: Client, dir: string, batchLines: number, log: (line: string) => void): Promise<WarmUp> {
  const logs = join(dir, 'warm-up');
  const prefix = `bench-warm-up-${Date.now().toString(36)}`;
  await writeLogs(logs, WARM_UP_LINES, WARM_UP_LINES);
  await installIndexTemplate(new ElasticsearchStorage(client), prefix);
  const bodies = await prepareBulkBodies(logs, prefix, batchLines);
  const rates: number[] = [];
  try {
    while (rates.length < MAX_LOADS) {
      const began = performance.now();
      await sendBodies(client, bodies);
      const reached = await waitForCount(client, prefix, WARM_UP_LINES, { stallMs: STALL_MS });
      rates.push(reached.count / ((reached.at - began) / 1000));
      await client.indices.delete({ index: indexPattern(prefix), ignore_unavailable: true, allow_no_indices: true });
      log(`warm-up load ${rates.length}: ${rates.at(-1)!.toFixed(0)} lines/s`);
      const [before, last] = rates.slice(-2);
      if (before !== undefined && last !== undefined && Math.abs(last - before) <= STABLE_WITHIN * Math.max(last, before)) return { rates, stable: true };
    }
    log(`warm-up: no two consecutive loads within ${STABLE_WITHIN * 100}% after ${MAX_LOADS}; timing anyway`);
    return { rates, stable: false };
  } finally {
    await dropIndices(client, prefix);
  }
}
