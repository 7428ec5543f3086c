// The reading loop the Elasticsearch path and each SIEM output share: lines from the tailer go into
// the batch being filled; the batch goes out at its line or byte bound, or when its first line has
// waited the flush interval; with nothing to read, the loop waits for the directory to change or
// the next poll.

import type { Line } from './tailed-file.ts';
import type { Tailer } from './tailer.ts';
import type { Wakeup } from './wakeup.ts';

export interface BatchBounds {
  max_lines: number;
  max_bytes: number;
  flush_interval_ms: number;
}

export interface FillingBatch {
  readonly items: { length: number };
  readonly bytes: number;
  readonly startedAt: number;
}

export interface BatchingReader {
  stopping(): boolean;
  /** The batch being filled. */
  batch(): FillingBatch;
  add(line: Line): void;
  /** Sends the batch being filled and starts a new one. */
  dispatch(): Promise<void>;
  /** Nothing left to read for now (e.g. write a checkpoint the tailer changed). */
  idle(): Promise<void>;
}

export async function readBatches(tailer: Tailer, wakeup: Wakeup, bounds: BatchBounds, pollIntervalMs: number, reader: BatchingReader): Promise<void> {
  const { max_lines, max_bytes, flush_interval_ms } = bounds;
  while (!reader.stopping()) {
    const line = tailer.takeLine();
    if (line) {
      reader.add(line);
      const batch = reader.batch();
      if (batch.items.length >= max_lines || batch.bytes >= max_bytes || Date.now() - batch.startedAt >= flush_interval_ms) await reader.dispatch();
      continue;
    }
    const batch = reader.batch();
    if (batch.items.length > 0 && Date.now() - batch.startedAt >= flush_interval_ms) {
      await reader.dispatch();
      continue;
    }
    if (await tailer.refill()) continue;
    await reader.idle();
    const untilFlush = batch.items.length > 0 ? batch.startedAt + flush_interval_ms - Date.now() : Infinity;
    await wakeup.wait(Math.max(1, Math.min(untilFlush, pollIntervalMs)));
  }
}
