// An independent model of the API's filters and sorts, computed in plain TypeScript over the very
// documents the suite indexed. The suites compare the API's answers with it.

import { isIP } from 'node:net';
import { categoryOf } from '../../common/access-record.ts';
import type { ProxyEventDocument } from '../../common/proxy-event-document.ts';
import type { Engine } from '../../common/search-engine.ts';

export type Params = Record<string, string | string[]>;

const list = (value: string | string[] | undefined) => (value === undefined ? undefined : Array.isArray(value) ? value : [value]);

/** An address as a 128-bit number, IPv4 as IPv4-mapped IPv6 (how Elasticsearch stores `ip`). */
export function ipNumber(ip: string): bigint {
  if (isIP(ip) === 4) return (0xffffn << 32n) | ip.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
  const [head, tail = ''] = ip.split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const h = groups(head!);
  const t = groups(tail);
  const all = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function inBlock(ip: string, block: string): boolean {
  const [base, prefixText] = block.split('/');
  if (prefixText === undefined) return ipNumber(ip) === ipNumber(base!);
  const v4 = isIP(base!) === 4;
  if (v4 !== (isIP(ip) === 4)) return false;
  const bits = BigInt(Number(prefixText) + (v4 ? 96 : 0));
  const shift = 128n - bits;
  return ipNumber(ip) >> shift === ipNumber(base!) >> shift;
}

const words = (text: string) => text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
function hasWords(reason: string | undefined, text: string): boolean {
  if (reason === undefined) return false;
  const have = new Set(words(reason));
  return words(text).every((w) => have.has(w));
}
const includesCi = (value: string | undefined, part: string) => value !== undefined && value.toLowerCase().includes(part.toLowerCase());
const equalsCi = (value: string | undefined, other: string) => value !== undefined && value.toLowerCase() === other.toLowerCase();

function searchMatches(d: ProxyEventDocument, text: string): boolean {
  return (
    d.event.id === text ||
    ((isIP(text.split('/')[0]!) !== 0) && inBlock(d.source.ip, text)) ||
    [d.url.domain, d.url.path, d.user?.id, d.user?.email, d.user?.name].some((v) => includesCi(v, text)) ||
    hasWords(d.event.reason, text)
  );
}

const CHECKS: Record<string, (d: ProxyEventDocument, value: string) => boolean> = {
  search: (d, v) => searchMatches(d, v),
  start_date: (d, v) => Date.parse(d['@timestamp']) >= Date.parse(v),
  end_date: (d, v) => Date.parse(d['@timestamp']) <= Date.parse(v),
  status: (d, v) => (v === 'success') === (d.http.response.status_code >= 200 && d.http.response.status_code <= 399),
  category: (d, v) => categoryOf(d.http.response.status_code) === v,
  status_code: (d, v) => d.http.response.status_code === Number(v),
  method: (d, v) => equalsCi(d.http.request.method, v),
  host: (d, v) => equalsCi(d.url.domain, v),
  path: (d, v) => includesCi(d.url.path, v),
  source_ip: (d, v) => inBlock(d.source.ip, v),
  user_id: (d, v) => d.user?.id === v,
  user_email: (d, v) => includesCi(d.user?.email, v),
  user_name: (d, v) => includesCi(d.user?.name, v),
  auth_method: (d, v) => d.proxy_access.auth_method === v,
  country_code: (d, v) => d.source.geo?.country_iso_code === v.toUpperCase(),
  city: (d, v) => equalsCi(d.source.geo?.city_name, v),
  service_id: (d, v) => d.service?.name === v,
  reason: (d, v) => hasWords(d.event.reason, v),
};

/** A predicate for the filters of a request's parameters: every parameter holds, any of its values. */
export function matcher(params: Params): (d: ProxyEventDocument) => boolean {
  const active = Object.entries(CHECKS)
    .map(([name, check]) => [check, list(params[name])?.filter((v) => v !== '') ?? []] as const)
    .filter(([, values]) => values.length > 0);
  return (d) => active.every(([check, values]) => values.some((v) => check(d, v)));
}

export function matches(d: ProxyEventDocument, params: Params): boolean {
  return matcher(params)(d);
}

type SortValue = string | number | bigint | undefined;
const SORT_VALUES: Record<string, (d: ProxyEventDocument) => SortValue[]> = {
  timestamp: (d) => [Date.parse(d['@timestamp'])],
  url: (d) => [d.url.domain, d.url.path],
  host: (d) => [d.url.domain],
  path: (d) => [d.url.path],
  method: (d) => [d.http.request.method],
  status_code: (d) => [d.http.response.status_code],
  duration: (d) => [d.event.duration],
  source_ip: (d) => [ipNumber(d.source.ip)],
  user_id: (d) => [d.user?.id],
  auth_method: (d) => [d.proxy_access.auth_method],
  reason: (d) => [d.event.reason],
};

function compareValues(a: SortValue, b: SortValue, desc: boolean): number {
  if (a === b) return 0;
  // Missing values come last in either order.
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  const order = a < b ? -1 : 1;
  return desc ? -order : order;
}

/** The documents in the order the API promises: the sort field(s), then the request id. */
export function sorted(documents: ProxyEventDocument[], sortBy = 'timestamp', order = 'desc'): ProxyEventDocument[] {
  const desc = order === 'desc';
  const keyed = documents.map((d) => ({ d, key: [...SORT_VALUES[sortBy]!(d), d.event.id] }));
  keyed.sort((x, y) => {
    for (let i = 0; i < x.key.length; i++) {
      const c = compareValues(x.key[i], y.key[i], desc);
      if (c !== 0) return c;
    }
    return 0;
  });
  return keyed.map((k) => k.d);
}

const sortedOnce = new WeakMap<ProxyEventDocument[], Map<string, ProxyEventDocument[]>>();

/** The matching documents in the requested order (each full sort computed once per data set). */
export function expected(documents: ProxyEventDocument[], params: Params): ProxyEventDocument[] {
  const sortBy = typeof params.sort_by === 'string' ? params.sort_by : 'timestamp';
  const order = typeof params.sort_order === 'string' ? params.sort_order : 'desc';
  const cache = sortedOnce.get(documents) ?? new Map<string, ProxyEventDocument[]>();
  sortedOnce.set(documents, cache);
  const key = `${sortBy} ${order}`;
  if (!cache.has(key)) cache.set(key, sorted(documents, sortBy, order));
  return cache.get(key)!.filter(matcher(params));
}

/**
 * The p-th percentile of ascending `values` as the API promises it: the value at the nearest rank
 * (what an HDR histogram answers, to its precision). The engines' HDR libraries take that rank
 * differently: Elasticsearch rounds p% of the count to the nearest whole rank, OpenSearch rounds it up.
 */
export function nearestRank(values: number[], p: number, engine: Engine): number {
  const rank = (p * values.length) / 100;
  return values[Math.max(1, engine === 'elasticsearch' ? Math.floor(rank + 0.5) : Math.ceil(rank)) - 1]!;
}
