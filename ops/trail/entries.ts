// One stored line → its trail entry: the same reading for a line of a log file and for the
// `event.original` of a document, hashed over its exact bytes.

import { accessRecordSchema, DROPPED_LINES_REASON, type AccessRecord } from '../../common/access-record.ts';
import { checkpointLineSchema, lineHash } from '../../common/trail.ts';
import type { TrailEntry } from './verifier.ts';

export type ReadLine =
  | { ok: true; entry: TrailEntry; record?: AccessRecord }
  | { ok: false; detail: string; proxy?: string; seq?: number };

const DROPPED_PREFIX = `${DROPPED_LINES_REASON}: `;

export function readTrailLine(bytes: Buffer, where: string): ReadLine {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { ok: false, detail: 'not JSON' };
  }
  const claimed = value as { proxy?: unknown; seq?: unknown };
  const known = {
    ...(typeof claimed.proxy === 'string' ? { proxy: claimed.proxy } : {}),
    ...(typeof claimed.seq === 'number' ? { seq: claimed.seq } : {}),
  };
  const hash = lineHash(bytes);
  if (typeof value === 'object' && value !== null && 'checkpoint' in value) {
    const parsed = checkpointLineSchema.safeParse(value);
    if (!parsed.success) return { ok: false, detail: 'not a trail checkpoint', ...known };
    const { proxy, seq, prev } = parsed.data;
    return { ok: true, entry: { proxy, seq, prev, hash, where, checkpoint: parsed.data } };
  }
  const parsed = accessRecordSchema.safeParse(value);
  if (!parsed.success) return { ok: false, detail: 'not an access record', ...known };
  const record = parsed.data;
  if (record.seq === undefined || record.prev === undefined) return { ok: false, detail: 'a record without a place in the trail (no seq or prev)', ...known };
  const entry: TrailEntry = { proxy: record.proxy, seq: record.seq, prev: record.prev, hash, where };
  if (record.reason?.startsWith(DROPPED_PREFIX)) entry.dropped = Number(record.reason.slice(DROPPED_PREFIX.length));
  return { ok: true, entry, record };
}
