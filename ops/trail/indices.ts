// verify-trail over the indices, on either engine through the storage seam. The range selects checkpoints by the time they were signed; for
// each proxy, every event and checkpoint whose sequence lies between its first and last checkpoint
// in the range is read in sequence order, whatever its day, and checked twice: the document against
// its own line (`event.original`, made into a document again the way the shipper does), and the
// line against the chain. So the range starts at a signed checkpoint: days that retention deleted
// before it are a clean cut, not missing records.

import { isDeepStrictEqual } from 'node:util';
import type { estypes } from '@elastic/elasticsearch';
import { dayOfDailyIndex, FIELD, indexPattern, trailIndexPrefix } from '../../common/proxy-event-document.ts';
import type { Storage } from '../../common/storage/storage.ts';
import { GENESIS_PREVIOUS } from '../../common/trail.ts';
import { toDocument } from '../../shipper/document.ts';
import { checkpointDocument, withTrail } from '../../shipper/trail-document.ts';
import { readTrailLine } from './entries.ts';
import { verifyChain, type TrailEntry, type TrustedKeys, type Verification } from './verifier.ts';

/**
 * How far into the oldest day kept a range starts once retention cut the days before it: a request
 * that began before midnight is written, and sequenced, after the first checkpoints of the next
 * day, but indexed on the day it began, which is deleted.
 */
export const CUT_MARGIN_MS = 3_600_000;
const PAGE_SIZE = 5_000;
const UNCHAINED_REPORTED = 100;
const MAX_PROXIES = 10_000;

export interface TimeRange {
  since?: Date;
  until?: Date;
}

type Source = Record<string, unknown>;

/** Leaf paths whose values differ, e.g. `http.response.status_code`. */
function differingFields(actual: unknown, expected: unknown, path = ''): string[] {
  if (isDeepStrictEqual(actual, expected)) return [];
  const isObject = (value: unknown): value is Source => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isObject(actual) || !isObject(expected)) return [path || '(document)'];
  const keys = new Set([...Object.keys(actual), ...Object.keys(expected)]);
  return [...keys].flatMap((key) => differingFields(actual[key], expected[key], path ? `${path}.${key}` : key));
}

/** Geo is the shipper's enrichment from its own data set, not part of the line: left out of the comparison. */
function withoutGeo(document: Source): Source {
  const source = document.source as Source | undefined;
  if (source === undefined || !('geo' in source)) return document;
  const { geo: _geo, ...rest } = source;
  return { ...document, source: rest };
}

function timeFilter(range: TimeRange): estypes.QueryDslQueryContainer {
  return { range: { [FIELD.timestamp]: { ...(range.since ? { gte: range.since.toISOString() } : {}), ...(range.until ? { lte: range.until.toISOString() } : {}) } } };
}

/** Each hit of `query` over `index`, in sequence order, through a point in time. */
async function* hitsBySequence(storage: Storage, patterns: string[], query: estypes.QueryDslQueryContainer): AsyncGenerator<estypes.SearchHit<Source>> {
  const id = await storage.openPointInTime(patterns.join(','), '1m');
  try {
    let after: estypes.SortResults | undefined;
    for (;;) {
      const page = await storage.search<Source>({
        pit: { id, keep_alive: '1m' },
        size: PAGE_SIZE,
        query,
        sort: [{ [FIELD.eventSequence]: 'asc' }],
        ...(after ? { search_after: after } : {}),
      });
      for (const hit of page.hits.hits) yield hit;
      if (page.hits.hits.length < PAGE_SIZE) return;
      after = page.hits.hits.at(-1)!.sort;
    }
  } finally {
    await storage.closePointInTime(id).catch(() => undefined);
  }
}

/** The hit's trail entry, after checking the document against its line; undefined when it has no usable line. */
function entryOf(hit: estypes.SearchHit<Source>, proxy: string, trailPrefix: string, into: Verification): TrailEntry | undefined {
  const where = `${hit._index}/${hit._id}`;
  const source = hit._source!;
  const event = (source.event ?? {}) as { sequence?: number; original?: unknown };
  const altered = (detail: string, seq = event.sequence) => {
    into.findings.push({ kind: 'altered', proxy, ...(seq === undefined ? {} : { seq }), where, detail });
    return undefined;
  };
  if (typeof event.original !== 'string') return altered('the document has no original line (event.original)');
  const read = readTrailLine(Buffer.from(event.original), where);
  if (!read.ok) return altered(`its original line is ${read.detail}`);
  const { entry, record } = read;
  if (entry.seq !== event.sequence || entry.proxy !== proxy) return altered(`event.sequence or observer.name differ from its line's seq ${entry.seq} of proxy ${entry.proxy}`);
  const isTrailIndex = hit._index.startsWith(`${trailPrefix}-`);
  if (entry.checkpoint ? !isTrailIndex : isTrailIndex) return altered(`a ${entry.checkpoint ? 'checkpoint' : 'record'} in the wrong index`);
  const expected = entry.checkpoint ? checkpointDocument(entry.checkpoint, event.original) : withTrail(toDocument(record!), record!, event.original);
  const fields = differingFields(withoutGeo(source), withoutGeo(expected as unknown as Source));
  // The line is still the proxy's: it stays in the chain, only the document is wrong.
  if (fields.length > 0) altered(`the document differs from its original line in ${fields.join(', ')}`);
  return entry;
}

/** The oldest day of events kept, or undefined when there is none. */
async function oldestDay(storage: Storage, prefix: string): Promise<Date | undefined> {
  const indices = await storage.resolveIndices([indexPattern(prefix)]);
  const days = indices.map((index) => dayOfDailyIndex(prefix, index)).filter((day) => day !== undefined);
  return days.length === 0 ? undefined : new Date(Math.min(...days.map((day) => day.getTime())));
}

/** True when the proxy's oldest entry kept continues an earlier one: the days before it were deleted. */
async function chainWasCut(storage: Storage, indices: string[], proxy: string): Promise<boolean> {
  const oldest = await storage.search<Source>({
    index: indices,
    size: 1,
    ignore_unavailable: true,
    query: { bool: { filter: [{ term: { [FIELD.observerName]: proxy } }, { exists: { field: FIELD.eventSequence } }] } },
    sort: [{ [FIELD.eventSequence]: 'asc' }],
  });
  const original = (oldest.hits.hits[0]?._source?.event as { original?: unknown } | undefined)?.original;
  if (typeof original !== 'string') return true;
  const read = readTrailLine(Buffer.from(original), '');
  return !read.ok || read.entry.prev !== GENESIS_PREVIOUS;
}

interface Window {
  first: number;
  last: number;
}

/** The sequences of the proxy's first and last checkpoint in the range, if it has any there. */
async function signedWindow(storage: Storage, trail: string, proxy: string, range: TimeRange): Promise<Window | undefined> {
  const response = await storage.search({
    index: trail,
    size: 0,
    ignore_unavailable: true,
    allow_no_indices: true,
    query: { bool: { filter: [timeFilter(range), { term: { [FIELD.observerName]: proxy } }] } },
    aggs: { first: { min: { field: FIELD.eventSequence } }, last: { max: { field: FIELD.eventSequence } } },
  });
  const value = (name: string) => (response.aggregations?.[name] as { value: number | null } | undefined)?.value ?? null;
  const first = value('first');
  const last = value('last');
  return first === null || last === null ? undefined : { first, last };
}

async function proxiesIn(storage: Storage, index: string, query: estypes.QueryDslQueryContainer): Promise<{ key: string; doc_count: number }[]> {
  const response = await storage.search({
    index,
    size: 0,
    ignore_unavailable: true,
    allow_no_indices: true,
    query,
    aggs: { proxies: { terms: { field: FIELD.observerName, size: MAX_PROXIES } } },
  });
  return (response.aggregations?.proxies as { buckets: { key: string; doc_count: number }[] } | undefined)?.buckets ?? [];
}

export async function verifyIndices(storage: Storage, prefix: string, range: TimeRange, keys: TrustedKeys, into: Verification): Promise<void> {
  const trailPrefix = trailIndexPrefix(prefix);
  const events = indexPattern(prefix);
  const trail = indexPattern(trailPrefix);
  const oldest = await oldestDay(storage, prefix);
  const signed = new Set<string>();
  for (const { key: proxy } of await proxiesIn(storage, trail, timeFilter(range))) {
    let proxyRange = range;
    const cutStart = oldest && new Date(oldest.getTime() + CUT_MARGIN_MS);
    if (cutStart && (range.since === undefined || range.since < cutStart) && (await chainWasCut(storage, [events, trail], proxy))) {
      proxyRange = { ...range, since: cutStart };
      into.notices.push({ proxy, detail: `a clean cut: the days before ${oldest!.toISOString().slice(0, 10)} are deleted; checked from the first checkpoint after ${cutStart.toISOString()}` });
    }
    const window = await signedWindow(storage, trail, proxy, proxyRange);
    if (window === undefined) continue;
    signed.add(proxy);
    const entries: TrailEntry[] = [];
    const query = { bool: { filter: [{ term: { [FIELD.observerName]: proxy } }, { range: { [FIELD.eventSequence]: { gte: window.first, lte: window.last } } }] } };
    for await (const hit of hitsBySequence(storage, [events, trail], query)) {
      const entry = entryOf(hit, proxy, trailPrefix, into);
      if (entry) entries.push(entry);
    }
    verifyChain(proxy, entries, keys, false, into);
    const outside = await storage.count(events, {
      bool: {
        filter: [timeFilter(range), { term: { [FIELD.observerName]: proxy } }, { exists: { field: FIELD.eventSequence } }],
        must_not: [{ range: { [FIELD.eventSequence]: { gte: window.first, lte: window.last } } }],
      },
    });
    if (outside > 0) {
      into.notices.push({ proxy, detail: `${outside} records in the range lie before its first or after its last checkpoint (sequences ${window.first} to ${window.last}): not covered by this run` });
    }
  }
  const unchained = await storage.search<Source>({
    index: events,
    size: UNCHAINED_REPORTED,
    ignore_unavailable: true,
    allow_no_indices: true,
    query: { bool: { filter: [timeFilter(range)], must_not: [{ exists: { field: FIELD.eventSequence } }] } },
  });
  for (const hit of unchained.hits.hits) {
    const proxy = (hit._source?.observer as { name?: string } | undefined)?.name ?? '?';
    into.findings.push({ kind: 'inserted', proxy, where: `${hit._index}/${hit._id}`, detail: 'a document without a place in the trail (no event.sequence)' });
  }
  const chained = { bool: { filter: [timeFilter(range), { exists: { field: FIELD.eventSequence } }], must_not: [{ terms: { [FIELD.observerName]: [...signed] } }] } };
  for (const { key, doc_count } of await proxiesIn(storage, events, chained)) {
    into.findings.push({ kind: 'unsigned', proxy: key, detail: `${doc_count} records in the range and no checkpoint of this proxy in it` });
  }
}
