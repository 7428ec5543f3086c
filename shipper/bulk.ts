// Sends one batch with `_bulk` and settles every item: created, already there (409 on a re-sent
// line: success), rejected for good (400: mapping and parse errors, the document's own fault; the
// caller dead-letters them), or retried: 429 and 5xx, and also the other 4xx (a missing index when
// auto-creation is off, a security or cluster block) and the 400s that name the cluster's state
// (a closed index): those are the cluster's state, not the line's, and dead-lettering every line
// until an operator notices would be worse than waiting. A flood-stage disk watermark puts a
// read_only_allow_delete block on the indices (429 cluster_block_exception); a full cluster
// past its high watermark leaves new shards unassigned (503 unavailable_shards_exception).
// The whole request is retried when the cluster cannot be reached or refuses it.
// Retries go on with capped backoff until they succeed or the signal aborts: an unreachable
// cluster stalls the shipper, it never drops lines.

import { StorageRequestError, type BulkItem, type Storage } from '../common/storage/storage.ts';
import { backoffDelay, pause, type RetryPolicy } from './backoff.ts';

export interface BulkOperation {
  /** The action line and the document, newline-separated, without a final newline. */
  operation: string;
}

export interface BulkOutcome<T> {
  created: number;
  duplicates: number;
  rejected: Array<{ item: T; error: string }>;
  retries: number;
}

export interface BulkOptions {
  retry: RetryPolicy;
  signal: AbortSignal;
  onRetry(reason: string, items: number, delayMs: number): void;
}

/** Error types that describe the cluster's state, not the document, whatever their status. */
const CLUSTER_STATE_ERRORS = new Set(['index_closed_exception', 'cluster_block_exception']);

function isRejectedForGood(result: BulkItem): boolean {
  return result.status === 400 && !CLUSTER_STATE_ERRORS.has(result.error?.type ?? '');
}

function describeError(error: unknown): string {
  if (!(error instanceof StorageRequestError)) return String(error);
  return error.statusCode ? `HTTP ${error.statusCode}: ${error.message}` : error.message;
}

function describeItemError(result: BulkItem): string {
  const { error } = result;
  if (!error) return `status ${result.status}`;
  const cause = error.caused_by ? ` (${error.caused_by.type}: ${error.caused_by.reason})` : '';
  return `${error.type}: ${error.reason}${cause}`;
}

export async function sendBulk<T extends BulkOperation>(storage: Storage, items: T[], options: BulkOptions): Promise<BulkOutcome<T>> {
  const outcome: BulkOutcome<T> = { created: 0, duplicates: 0, rejected: [], retries: 0 };
  let pending = items;
  let attempt = 0;
  while (pending.length > 0) {
    options.signal.throwIfAborted();
    let results: BulkItem[];
    try {
      results = await storage.bulk(pending.map((item) => item.operation), { signal: options.signal });
      if (results.length !== pending.length) throw new Error(`_bulk answered ${results.length} items for ${pending.length}`);
    } catch (error) {
      options.signal.throwIfAborted();
      const delay = backoffDelay(options.retry, attempt++);
      outcome.retries++;
      options.onRetry(describeError(error), pending.length, delay);
      await pause(delay, options.signal);
      continue;
    }
    const again: T[] = [];
    let lastRetryReason = '';
    for (let i = 0; i < results.length; i++) {
      const result = results[i]!;
      const status = result.status;
      if (status === 201 || status === 200) outcome.created++;
      else if (status === 409) outcome.duplicates++;
      else if (isRejectedForGood(result)) outcome.rejected.push({ item: pending[i]!, error: describeItemError(result) });
      else {
        again.push(pending[i]!);
        lastRetryReason = `${status} ${describeItemError(result)}`;
      }
    }
    pending = again;
    if (pending.length > 0) {
      const delay = backoffDelay(options.retry, attempt++);
      outcome.retries++;
      options.onRetry(lastRetryReason, pending.length, delay);
      await pause(delay, options.signal);
    }
  }
  return outcome;
}
