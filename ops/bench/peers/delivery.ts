// What landed in Elasticsearch: waiting for a count, and the exact delivery check (every request
// id once): a composite aggregation over event.id pages through every distinct id with its
// document count, so duplicates and missing lines are counted exactly, not estimated.

import type { Client } from '@elastic/elasticsearch';
import { FIELD, indexPattern, indexTemplateName } from '../../../common/proxy-event-document.ts';

/** Deletes a run's daily indices and its index template. */
export async function dropIndices(client: Client, prefix: string): Promise<void> {
  await client.indices.delete({ index: indexPattern(prefix), ignore_unavailable: true, allow_no_indices: true }).catch(() => {});
  await client.indices.deleteIndexTemplate({ name: indexTemplateName(prefix) }, { ignore: [404] }).catch(() => {});
}

/** Searchable documents; 0 while a new index's shard is not allocated yet (503). */
export async function countDocuments(client: Client, prefix: string): Promise<number> {
  try {
    const { count } = await client.count({ index: indexPattern(prefix), allow_no_indices: true, ignore_unavailable: true });
    return count;
  } catch (error) {
    if ((error as { meta?: { statusCode?: number } }).meta?.statusCode === 503) return 0;
    throw error;
  }
}

/** How long the first document may take: shippers starting, a new index's shard allocated. */
const FIRST_DOCUMENT_WITHIN_MS = 120_000;

/**
 * Waits until `expected` documents are searchable, or until the count has not grown for
 * `stallMs` (a peer that lost lines never gets there). Returns the count and when it was reached.
 */
export function waitForCount(
  client: Client,
  prefix: string,
  expected: number,
  options: { stallMs: number; onProgress?: (count: number) => boolean | void },
): Promise<{ count: number; at: number }> {
  return waitForCountOf(() => countDocuments(client, prefix), expected, options);
}

/** waitForCount with any way of counting (another engine's storage). */
export async function waitForCountOf(
  countNow: () => Promise<number>,
  expected: number,
  options: { stallMs: number; onProgress?: (count: number) => boolean | void },
): Promise<{ count: number; at: number }> {
  const began = performance.now();
  let last = -1;
  let lastChange = began;
  for (;;) {
    const count = await countNow();
    const now = performance.now();
    if (count !== last) {
      last = count;
      lastChange = now;
    }
    if (count >= expected || options.onProgress?.(count) === true) return { count, at: now };
    // Before the first document, starting processes (several at once on a busy machine) are not a stall.
    const stalled = count === 0 ? now - began > FIRST_DOCUMENT_WITHIN_MS : now - lastChange > options.stallMs;
    if (stalled) return { count, at: lastChange };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface Delivery {
  expected: number;
  documents: number;
  distinct: number;
  /** Documents beyond the first for an id. */
  duplicates: number;
  missing: number;
  exactly_once: boolean;
}

export async function checkDelivery(client: Client, prefix: string, expected: number): Promise<Delivery> {
  await client.indices.refresh({ index: indexPattern(prefix), allow_no_indices: true, ignore_unavailable: true });
  let after: Record<string, string | number | null> | undefined;
  let distinct = 0;
  let documents = 0;
  for (;;) {
    const response = await client.search({
      index: indexPattern(prefix),
      size: 0,
      aggs: { ids: { composite: { size: 10_000, sources: [{ id: { terms: { field: FIELD.eventId } } }], ...(after ? { after } : {}) } } },
    });
    const ids = response.aggregations!.ids as { buckets: { doc_count: number }[]; after_key?: Record<string, string | number | null> };
    for (const bucket of ids.buckets) {
      distinct++;
      documents += bucket.doc_count;
    }
    if (ids.buckets.length < 10_000 || !ids.after_key) break;
    after = ids.after_key;
  }
  const duplicates = documents - distinct;
  const missing = Math.max(0, expected - distinct);
  return { expected, documents, distinct, duplicates, missing, exactly_once: duplicates === 0 && missing === 0 && distinct === expected };
}
