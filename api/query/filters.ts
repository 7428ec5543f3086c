// Filters → an Elasticsearch bool query, built only from typed clauses (term, terms, range,
// wildcard with escaped user text, match): user text never reaches query-string syntax, so no
// value can make the query fail or widen it.

import type { estypes } from '@elastic/elasticsearch';
import { isAddressOrCidr } from '../../common/ip-address.ts';
import { FIELD } from '../../common/proxy-event-document.ts';
import { BadParameterError } from '../errors.ts';
import type { Filters } from './params.ts';
import { toEpochMillis } from './values.ts';

type Query = estypes.QueryDslQueryContainer;

/** Statuses NetBird calls success; everything else is failed. */
const SUCCESS_STATUS = { gte: 200, lte: 399 } as const;

/** Escapes the wildcard query's special characters so user text matches literally. */
export function escapeWildcard(value: string): string {
  return value.replace(/[\\*?]/g, (c) => `\\${c}`);
}

function contains(field: string, value: string): Query {
  return { wildcard: { [field]: { value: `*${escapeWildcard(value)}*`, case_insensitive: true } } };
}

function exact(field: string, value: string | number, caseInsensitive = false): Query {
  return { term: { [field]: caseInsensitive ? { value, case_insensitive: true } : { value } } };
}

function either(clauses: Query[]): Query {
  return clauses.length === 1 ? clauses[0]! : { bool: { should: clauses, minimum_should_match: 1 } };
}

function reasonWords(words: string): Query {
  return { match: { [FIELD.reasonText]: { query: words, operator: 'and' } } };
}

/** Free text: the request id exactly, the source IP when the text is an address or block, a
 * substring of host, path, user id or e-mail, or the reason's words. */
export function searchClause(text: string): Query {
  const clauses: Query[] = [exact(FIELD.eventId, text)];
  if (isAddressOrCidr(text)) clauses.push(exact(FIELD.sourceIp, text));
  for (const field of [FIELD.domain, FIELD.path, FIELD.userId, FIELD.userEmail]) clauses.push(contains(field, text));
  clauses.push(reasonWords(text));
  return either(clauses);
}

function statusClause(status: 'success' | 'failed'): Query {
  const success: Query = { range: { [FIELD.statusCode]: SUCCESS_STATUS } };
  return status === 'success' ? success : { bool: { must_not: [success] } };
}

export function timeRange(filters: Pick<Filters, 'start_date' | 'end_date'>): { start?: number; end?: number } {
  const start = filters.start_date === undefined ? undefined : toEpochMillis(filters.start_date);
  const end = filters.end_date === undefined ? undefined : toEpochMillis(filters.end_date);
  if (start !== undefined && end !== undefined && start > end) throw new BadParameterError('end_date', 'must not be before start_date');
  return { start, end };
}

export function filterQuery(filters: Filters): Query {
  const clauses: Query[] = [];
  const add = <T>(values: T[] | undefined, clause: (value: T) => Query) => {
    if (values) clauses.push(either(values.map(clause)));
  };
  if (filters.search !== undefined) clauses.push(searchClause(filters.search));
  const { start, end } = timeRange(filters);
  if (start !== undefined || end !== undefined) {
    clauses.push({ range: { [FIELD.timestamp]: { gte: start, lte: end, format: 'epoch_millis' } } });
  }
  add(filters.status, statusClause);
  if (filters.category) clauses.push({ terms: { [FIELD.category]: filters.category } });
  if (filters.status_code) clauses.push({ terms: { [FIELD.statusCode]: filters.status_code } });
  add(filters.method, (value) => exact(FIELD.method, value, true));
  add(filters.host, (value) => exact(FIELD.domain, value, true));
  add(filters.path, (value) => contains(FIELD.path, value));
  add(filters.source_ip, (value) => exact(FIELD.sourceIp, value));
  if (filters.user_id) clauses.push({ terms: { [FIELD.userId]: filters.user_id } });
  add(filters.user_email, (value) => contains(FIELD.userEmail, value));
  if (filters.auth_method) clauses.push({ terms: { [FIELD.authMethod]: filters.auth_method } });
  if (filters.country_code) clauses.push({ terms: { [FIELD.countryCode]: filters.country_code } });
  add(filters.city, (value) => exact(FIELD.cityName, value, true));
  if (filters.service_id) clauses.push({ terms: { [FIELD.serviceName]: filters.service_id } });
  add(filters.reason, reasonWords);
  return clauses.length === 0 ? { match_all: {} } : { bool: { filter: clauses } };
}
