// Sorting and the opaque cursor. Every sort ends with the request id, so equal values never leave
// the order of a page to chance and search_after resumes exactly where a page ended.

import { isIP } from 'node:net';
import type { estypes } from '@elastic/elasticsearch';
import { FIELD, FIELD_TYPE, type FieldName } from '../../common/proxy-event-document.ts';
import { BadParameterError } from '../errors.ts';
import type { SortKey, SortOrder } from './params.ts';

const SORT_FIELDS: Record<SortKey, FieldName[]> = {
  timestamp: [FIELD.timestamp],
  url: [FIELD.domain, FIELD.path],
  host: [FIELD.domain],
  path: [FIELD.path],
  method: [FIELD.method],
  status_code: [FIELD.statusCode],
  duration: [FIELD.eventDuration],
  source_ip: [FIELD.sourceIp],
  user_id: [FIELD.userId],
  auth_method: [FIELD.authMethod],
  reason: [FIELD.reason],
};

const TIEBREAKER: FieldName = FIELD.eventId;

export function sortFields(key: SortKey): FieldName[] {
  return [...SORT_FIELDS[key], TIEBREAKER];
}

export function sortClause(key: SortKey, order: SortOrder): estypes.SortCombinations[] {
  return sortFields(key).map((field): estypes.SortCombinations => ({
    // unmapped_type: an index created without the template must not fail the whole search.
    [field]: { order, missing: '_last', unmapped_type: FIELD_TYPE[field] },
  }));
}

/** What a cursor carries: the sort it belongs to, the last hit's sort values, how many records came before. */
export interface Cursor {
  sortBy: SortKey;
  sortOrder: SortOrder;
  after: estypes.FieldValue[];
  seen: number;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.sortBy, cursor.sortOrder, cursor.seen, cursor.after])).toString('base64url');
}

function validSortValue(field: FieldName, value: unknown): boolean {
  switch (FIELD_TYPE[field]) {
    case 'date':
    case 'long':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'ip':
      return value === null || (typeof value === 'string' && isIP(value) !== 0);
    default:
      return value === null || typeof value === 'string';
  }
}

/** Decodes a cursor made by encodeCursor for this same sort; anything else is a 400 naming `cursor`. */
export function decodeCursor(text: string, sortBy: SortKey, sortOrder: SortOrder): Cursor {
  const bad = (why: string) => new BadParameterError('cursor', why);
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw bad('is not a cursor returned by this API');
  }
  if (!Array.isArray(decoded) || decoded.length !== 4) throw bad('is not a cursor returned by this API');
  const [by, order, seen, after] = decoded as unknown[];
  if (by !== sortBy || order !== sortOrder) throw bad('was made for another sort_by or sort_order');
  const fields = sortFields(sortBy);
  if (
    typeof seen !== 'number' || !Number.isSafeInteger(seen) || seen < 1 ||
    !Array.isArray(after) || after.length !== fields.length ||
    !fields.every((field, i) => validSortValue(field, after[i]))
  ) {
    throw bad('is not a cursor returned by this API');
  }
  return { sortBy, sortOrder, after: after as estypes.FieldValue[], seen };
}
