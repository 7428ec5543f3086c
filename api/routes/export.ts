// GET /api/events/proxy/export: every match, streamed as NDJSON or CSV. Pages of search_after
// under a point in time (a consistent snapshot, however long the download), pulled only as fast
// as the client reads, so memory stays at one page whatever the size of the result.
// A node lost mid-export can take the point in time's shard copies with it: the export opens a
// new one and goes on after the last record sent (the sort ends with the request id, so no record
// comes twice or is skipped). When Elasticsearch stays away longer than RESUME_WITHIN_MS, the
// last line names API_EXPORT_INTERRUPTED and the cursor to resume from, and the download is cut.

import { Readable } from 'node:stream';
import type { estypes } from '@elastic/elasticsearch';
import type { Logger } from 'pino';
import type { EventSearchRequest, EventStore } from '../event-store.ts';
import { CSV_HEADER, csvRow } from '../events/csv.ts';
import { RECORD_SOURCE_EXCLUDES, toRecord } from '../events/record.ts';
import { ElasticsearchUnavailableError, ExportInterruptedError } from '../errors.ts';
import { loggable } from '../middleware/errors.ts';
import type { ScopedQuery } from '../query/filters.ts';
import type { EXPORT_PARAMS, Parsed } from '../query/params.ts';
import { decodeCursor, encodeCursor, sortClause } from '../query/sort.ts';

export type ExportParams = Parsed<typeof EXPORT_PARAMS>;

export const EXPORT_PAGE_SIZE = 1_000;
/** How long the point in time lives between two pages; renewed by every page. */
const KEEP_ALIVE = '2m';
/** How long an export that lost Elasticsearch keeps trying to go on before it gives up. */
export const RESUME_WITHIN_MS = 30_000;
const RESUME_PAUSE_MS = 1_000;
/** How long the interruption line may take to reach the client before the download is cut. */
const LAST_LINE_FLUSH_MS = 2_000;

export const EXPORT_CONTENT_TYPE = { ndjson: 'application/x-ndjson; charset=utf-8', csv: 'text/csv; charset=utf-8' } as const;

/** A point in time left open expires after KEEP_ALIVE; an unreachable Elasticsearch is no bug. */
function pitNotClosed(log: Logger) {
  return (error: unknown) => {
    if (error instanceof ElasticsearchUnavailableError) log.warn({ error: error.code, cause: error.reason }, 'could not close the export point in time');
    else log.error({ err: loggable(error) }, 'could not close the export point in time');
  };
}

interface Position {
  pit: string;
  after: estypes.FieldValue[] | undefined;
  /** Records sent so far, counting those of the export this one resumes. */
  sent: number;
}

/**
 * The next page, or, when Elasticsearch is unavailable, the same page under a new point in time
 * once one opens, within RESUME_WITHIN_MS of the first failure.
 */
async function nextPage(store: EventStore, position: Position, query: ScopedQuery, sort: estypes.SortCombinations[], signal: AbortSignal, log: Logger) {
  let since: number | undefined;
  for (;;) {
    const request: EventSearchRequest = {
      query,
      sort,
      size: EXPORT_PAGE_SIZE,
      track_total_hits: false,
      _source: { excludes: RECORD_SOURCE_EXCLUDES },
      pit: { id: position.pit, keep_alive: KEEP_ALIVE },
    };
    if (position.after) request.search_after = position.after;
    try {
      if (since !== undefined) {
        const lost = position.pit;
        position.pit = await store.openPointInTime(KEEP_ALIVE, signal);
        store.closePointInTime(lost).catch(pitNotClosed(log));
        request.pit = { id: position.pit, keep_alive: KEEP_ALIVE };
      }
      return await store.search(request, signal);
    } catch (error) {
      if (!(error instanceof ElasticsearchUnavailableError)) throw error;
      since ??= Date.now();
      log.warn({ error: error.code, cause: error.reason, sent: position.sent }, 'export lost Elasticsearch; resuming under a new point in time');
      if (Date.now() - since >= RESUME_WITHIN_MS) throw error;
      await new Promise((resolve) => setTimeout(resolve, RESUME_PAUSE_MS));
      signal.throwIfAborted();
    }
  }
}

async function* lines(
  store: EventStore,
  params: ExportParams,
  query: ScopedQuery,
  position: Position,
  signal: AbortSignal,
  log: Logger,
  flushed: () => Promise<void>,
  counted: (records: number) => void,
): AsyncGenerator<string> {
  try {
    if (params.format === 'csv' && position.sent === 0) yield CSV_HEADER;
    const sort = sortClause(params.sort_by, params.sort_order);
    for (;;) {
      let response;
      try {
        response = await nextPage(store, position, query, sort, signal, log);
      } catch (error) {
        if (!(error instanceof ElasticsearchUnavailableError) || signal.aborted) throw error;
        const cursor = position.after && encodeCursor({ sortBy: params.sort_by, sortOrder: params.sort_order, after: position.after, seen: position.sent });
        const interrupted = new ExportInterruptedError(cursor ?? null, position.sent, error);
        yield `${JSON.stringify(interrupted.body())}\n`;
        await flushed();
        throw interrupted;
      }
      position.pit = response.pit_id ?? position.pit;
      const hits = response.hits.hits;
      let chunk = '';
      for (const hit of hits) {
        const record = toRecord(hit._source!);
        chunk += params.format === 'csv' ? csvRow(record) : `${JSON.stringify(record)}\n`;
      }
      if (hits.length > 0) {
        // A point in time appends its own tiebreaker (_shard_doc) to every hit's sort values. It
        // names a document within this point in time's shard copies only: under a new one (after a
        // node loss) it would let the last record sent come again. The request id already orders
        // every record, so the position is the sort's own values.
        position.after = hits.at(-1)!.sort!.slice(0, sort.length);
        position.sent += hits.length;
      }
      if (chunk) yield chunk;
      counted(hits.length);
      if (hits.length < EXPORT_PAGE_SIZE) return;
    }
  } finally {
    await store.closePointInTime(position.pit).catch(pitNotClosed(log));
  }
}

/** Resolves once `response` has handed everything written to it to the kernel, or after LAST_LINE_FLUSH_MS. */
export function flushedTo(response: { writableLength: number; socket: { writableLength: number } | null }): () => Promise<void> {
  return async () => {
    const deadline = Date.now() + LAST_LINE_FLUSH_MS;
    while ((response.writableLength > 0 || (response.socket?.writableLength ?? 0) > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
}

/**
 * Opens the point in time first, so an unreachable Elasticsearch is a 503 before any byte is sent;
 * a failure later cuts the stream short after a last line that says why (the caller logs it).
 * `query` comes from filterQuery (the token's scope); `log` carries the request id; `flushed`
 * resolves once the client's connection took what was written; `counted` hears how many records
 * each page handed to the client.
 */
export async function exportEvents(
  store: EventStore,
  query: ScopedQuery,
  params: ExportParams,
  signal: AbortSignal,
  log: Logger,
  flushed: () => Promise<void>,
  counted: (records: number) => void,
): Promise<Readable> {
  const resumed = params.cursor === undefined ? undefined : decodeCursor(params.cursor, params.sort_by, params.sort_order);
  const id = await store.openPointInTime(KEEP_ALIVE, signal);
  const position: Position = { pit: id, after: resumed?.after, sent: resumed?.seen ?? 0 };
  const generator = lines(store, params, query, position, signal, log, flushed, counted);
  let started = false;
  const stream = Readable.from(
    (async function* () {
      started = true;
      yield* generator;
    })(),
    { objectMode: false },
  );
  // A client gone before the first read (or a HEAD request) never starts the generator, whose
  // finally would close the point in time.
  stream.once('close', () => {
    if (!started) store.closePointInTime(id).catch(pitNotClosed(log));
  });
  return stream;
}
