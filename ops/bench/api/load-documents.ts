// Loading the API benchmark's data set: `count` generated documents over the 7 days up to `now`,
// chained as a proxy writes them, into daily indices created up front without refreshes or
// per-request fsyncs, then put back to their serving settings and force-merged to one segment
// each. The index settings and force-merge go through `IndexAdmin`: the storage seam has neither.

import { installIndexTemplate } from '../../../common/index-lifecycle.ts';
import { dailyIndexName, indexPattern } from '../../../common/proxy-event-document.ts';
import type { Storage } from '../../../common/storage/storage.ts';
import { DAY_MS, generateRecords, indexDocuments } from '../../../test/helpers/dataset.ts';
import { chainedDocuments } from './documents.ts';

/** Settings both engines accept, for loading only. */
const LOADING_SETTINGS = { refresh_interval: '-1', 'translog.durability': 'async' } as const;
const SERVING_SETTINGS = { refresh_interval: '1s', 'translog.durability': 'request' } as const;

export interface IndexAdmin {
  /** Creates an index with these settings; one that exists already is no error. */
  createIndex(index: string, settings: Record<string, string>): Promise<void>;
  putSettings(pattern: string, settings: Record<string, string>): Promise<void>;
  /** Force-merges to one segment per shard and refreshes. */
  forceMerge(pattern: string): Promise<void>;
}

/** Loads the data set; answers the seconds it took, force-merge included. */
export async function loadDocuments(storage: Storage, admin: IndexAdmin, prefix: string, count: number, now: number): Promise<number> {
  const started = performance.now();
  await installIndexTemplate(storage, prefix);
  for (let day = now - 8 * DAY_MS; day <= now + DAY_MS; day += DAY_MS) await admin.createIndex(dailyIndexName(prefix, new Date(day)), LOADING_SETTINGS);
  await indexDocuments(storage, prefix, chainedDocuments(generateRecords({ count, seed: 42, end: now })), 5_000, 2);
  await admin.putSettings(indexPattern(prefix), SERVING_SETTINGS);
  await admin.forceMerge(indexPattern(prefix));
  return (performance.now() - started) / 1000;
}
