// GET /api/events/proxy/export: every match, streamed as NDJSON or CSV. Pages of search_after
// under a point in time (a consistent snapshot, however long the download), pulled only as fast
// as the client reads, so memory stays at one page whatever the size of the result.

import { Readable } from 'node:stream';
import type { estypes } from '@elastic/elasticsearch';
import type { Logger } from 'pino';
import type { EventSearchRequest, EventStore } from '../event-store.ts';
import { CSV_HEADER, csvRow } from '../events/csv.ts';
import { toRecord } from '../events/record.ts';
import { ElasticsearchUnavailableError } from '../errors.ts';
import { loggable } from '../middleware/errors.ts';
import type { ScopedQuery } from '../query/filters.ts';
import type { EXPORT_PARAMS, Parsed } from '../query/params.ts';
import { sortClause } from '../query/sort.ts';

export type ExportParams = Parsed<typeof EXPORT_PARAMS>;

export const EXPORT_PAGE_SIZE = 1_000;
/** How long the point in time lives between two pages; renewed by every page. */
const KEEP_ALIVE = '2m';

export const EXPORT_CONTENT_TYPE = { ndjson: 'application/x-ndjson; charset=utf-8', csv: 'text/csv; charset=utf-8' } as const;

/** A point in time left open expires after KEEP_ALIVE; an unreachable Elasticsearch is no bug. */
function pitNotClosed(log: Logger) {
  return (error: unknown) => {
    if (error instanceof ElasticsearchUnavailableError) log.warn({ error: error.code, cause: error.reason }, 'could not close the export point in time');
    else log.error({ err: loggable(error) }, 'could not close the export point in time');
  };
}

async function* lines(
  store: EventStore,
  params: ExportParams,
  query: ScopedQuery,
  pitId: string,
  signal: AbortSignal,
  log: Logger,
  counted: (records: number) => void,
): AsyncGenerator<string> {
  let pit = pitId;
  try {
    if (params.format === 'csv') yield CSV_HEADER;
    const sort = sortClause(params.sort_by, params.sort_order);
    let after: estypes.FieldValue[] | undefined;
    for (;;) {
      const request: EventSearchRequest = { query, sort, size: EXPORT_PAGE_SIZE, track_total_hits: false, pit: { id: pit, keep_alive: KEEP_ALIVE } };
      if (after) request.search_after = after;
      const response = await store.search(request, signal);
      pit = response.pit_id ?? pit;
      const hits = response.hits.hits;
      let chunk = '';
      for (const hit of hits) {
        const record = toRecord(hit._source!);
        chunk += params.format === 'csv' ? csvRow(record) : `${JSON.stringify(record)}\n`;
      }
      if (chunk) yield chunk;
      counted(hits.length);
      if (hits.length < EXPORT_PAGE_SIZE) return;
      after = hits.at(-1)!.sort;
    }
  } finally {
    await store.closePointInTime(pit).catch(pitNotClosed(log));
  }
}

/**
 * Opens the point in time first, so an unreachable Elasticsearch is a 503 before any byte is sent;
 * a failure later can only cut the stream short (the stream errors; the caller logs it). `query`
 * comes from filterQuery (the token's scope); `log` carries the request id; `counted` hears how
 * many records each page handed to the client.
 */
export async function exportEvents(
  store: EventStore,
  query: ScopedQuery,
  params: ExportParams,
  signal: AbortSignal,
  log: Logger,
  counted: (records: number) => void,
): Promise<Readable> {
  const { id } = await store.openPointInTime(KEEP_ALIVE, signal);
  const generator = lines(store, params, query, id, signal, log, counted);
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
