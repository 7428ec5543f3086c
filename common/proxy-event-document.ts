// The Elasticsearch document of one proxied request: its type, its field names, the index
// template that maps them, and the daily index names. Shipper, API and ops import this module;
// nothing else spells a field name (ARCHITECTURE.md, "3. Record → document").

import type { AuthMethod, Category, Protocol } from './access-record.ts';

/** Field names (ECS 9 where ECS has the field; `proxy_access.*` where it has not). */
export const FIELD = {
  timestamp: '@timestamp',
  eventId: 'event.id',
  eventKind: 'event.kind',
  eventCategory: 'event.category',
  eventType: 'event.type',
  eventDuration: 'event.duration',
  eventOutcome: 'event.outcome',
  reason: 'event.reason',
  reasonText: 'event.reason.text',
  method: 'http.request.method',
  statusCode: 'http.response.status_code',
  bytesIn: 'http.request.body.bytes',
  bytesOut: 'http.response.body.bytes',
  domain: 'url.domain',
  path: 'url.path',
  scheme: 'url.scheme',
  sourceIp: 'source.ip',
  countryCode: 'source.geo.country_iso_code',
  countryName: 'source.geo.country_name',
  regionCode: 'source.geo.region_iso_code',
  cityName: 'source.geo.city_name',
  location: 'source.geo.location',
  userId: 'user.id',
  userEmail: 'user.email',
  userName: 'user.name',
  userAgent: 'user_agent.original',
  serviceName: 'service.name',
  observerName: 'observer.name',
  category: 'proxy_access.category',
  authMethod: 'proxy_access.auth_method',
  /** The trail (common/trail.ts): the line's place in its proxy's chain, its hash, and the line itself. */
  eventSequence: 'event.sequence',
  eventHash: 'event.hash',
  eventOriginal: 'event.original',
} as const;

export type FieldName = (typeof FIELD)[keyof typeof FIELD];

/** Server-core field types only, so the template works on any Elasticsearch 8 or 9 node. */
type FieldType = 'keyword' | 'text' | 'ip' | 'date' | 'long' | 'float' | 'geo_point';

/** The type each field is indexed with. `event.reason.text` is a sub-field of `event.reason`. */
export const FIELD_TYPE: Record<FieldName, FieldType> = {
  [FIELD.timestamp]: 'date',
  [FIELD.eventId]: 'keyword',
  [FIELD.eventKind]: 'keyword',
  [FIELD.eventCategory]: 'keyword',
  [FIELD.eventType]: 'keyword',
  [FIELD.eventDuration]: 'long',
  [FIELD.eventOutcome]: 'keyword',
  [FIELD.reason]: 'keyword',
  [FIELD.reasonText]: 'text',
  [FIELD.method]: 'keyword',
  [FIELD.statusCode]: 'long',
  [FIELD.bytesIn]: 'long',
  [FIELD.bytesOut]: 'long',
  [FIELD.domain]: 'keyword',
  [FIELD.path]: 'keyword',
  [FIELD.scheme]: 'keyword',
  [FIELD.sourceIp]: 'ip',
  [FIELD.countryCode]: 'keyword',
  [FIELD.countryName]: 'keyword',
  [FIELD.regionCode]: 'keyword',
  [FIELD.cityName]: 'keyword',
  [FIELD.location]: 'geo_point',
  [FIELD.userId]: 'keyword',
  [FIELD.userEmail]: 'keyword',
  [FIELD.userName]: 'keyword',
  [FIELD.userAgent]: 'keyword',
  [FIELD.serviceName]: 'keyword',
  [FIELD.observerName]: 'keyword',
  [FIELD.category]: 'keyword',
  [FIELD.authMethod]: 'keyword',
  [FIELD.eventSequence]: 'long',
  [FIELD.eventHash]: 'keyword',
  [FIELD.eventOriginal]: 'keyword',
};

/**
 * Fields stored with less than an index and doc values, because nothing needs more of them: each
 * cut measured with `_disk_usage` on a force-merged index (`npm run bench:api` reports it;
 * ARCHITECTURE.md, "3. Record → document").
 * - `source only`: read back from `_source` only. The line's text and its hash are what
 *   verify-trail compares; a random 43-character hash indexed with doc values cost 90 bytes
 *   per document (of 606, with the line in `_source` twice).
 * - `doc values only`: sorted or aggregated, never filtered by a range (the API sorts by duration;
 *   Kibana shows and sums the byte counts), so the points index (5 bytes each) goes. A range query
 *   still works, answered from the doc values.
 */
const FIELD_STORAGE: Partial<Record<FieldName, 'source only' | 'doc values only'>> = {
  [FIELD.eventOriginal]: 'source only',
  [FIELD.eventHash]: 'source only',
  [FIELD.eventDuration]: 'doc values only',
  [FIELD.bytesIn]: 'doc values only',
  [FIELD.bytesOut]: 'doc values only',
};

/** Keyword values longer than this are kept in _source but not indexed (a long path or User-Agent). */
const KEYWORD_IGNORE_ABOVE = 2048;

export interface GeoFields {
  country_iso_code?: string;
  country_name?: string;
  region_iso_code?: string;
  city_name?: string;
  location?: { lat: number; lon: number };
}

/** The document as it is indexed and as `_source` returns it. */
export interface ProxyEventDocument {
  '@timestamp': string;
  event: {
    id: string;
    kind: 'event';
    category: ['web'];
    type: ['access'];
    /** Nanoseconds. */
    duration: number;
    outcome: 'success' | 'failure';
    reason?: string;
    /** The trail: absent for lines written before it. */
    sequence?: number;
    hash?: string;
    original?: string;
  };
  http: {
    request: { method: string; body: { bytes: number } };
    response: { status_code: number; body: { bytes: number } };
  };
  url: { domain: string; path: string; scheme: Protocol };
  source: { ip: string; geo?: GeoFields };
  user?: { id?: string; email?: string; name?: string };
  user_agent?: { original: string };
  service?: { name: string };
  observer: { name: string };
  proxy_access: { category: Category; auth_method: AuthMethod };
}

/** A trail checkpoint as it is indexed into `<prefix>.trail-YYYY.MM.DD`: the line, found by proxy and sequence. */
export interface TrailCheckpointDocument {
  '@timestamp': string;
  event: { kind: 'state'; sequence: number; hash: string; original: string };
  observer: { name: string };
}

type MappingProperty =
  | { type: FieldType; ignore_above?: number; index?: false; doc_values?: false; fields?: Record<string, { type: FieldType }> }
  | { properties: Record<string, MappingProperty> };

/** Nested `properties` built from the flat field table, so the mapping cannot drift from FIELD. */
function mappingProperties(): Record<string, MappingProperty> {
  const root: Record<string, MappingProperty> = {};
  for (const name of Object.values(FIELD)) {
    if (name === FIELD.reasonText) continue;
    const parts = name.split('.');
    let level = root;
    for (const part of parts.slice(0, -1)) {
      const next = (level[part] ??= { properties: {} });
      level = (next as { properties: Record<string, MappingProperty> }).properties;
    }
    const type = FIELD_TYPE[name];
    const storage = FIELD_STORAGE[name];
    const leaf: MappingProperty =
      storage === 'source only'
        ? { type, index: false, doc_values: false }
        : storage === 'doc values only'
          ? { type, index: false }
          : type === 'keyword'
            ? { type, ignore_above: KEYWORD_IGNORE_ABOVE }
            : { type };
    if (name === FIELD.reason) leaf.fields = { text: { type: FIELD_TYPE[FIELD.reasonText] } };
    level[parts.at(-1)!] = leaf;
  }
  return root;
}

/** `event.duration` is in nanoseconds (ECS); the access-log record and the API speak milliseconds. */
export const NANOSECONDS_PER_MILLISECOND = 1_000_000;

/** The index prefix every part uses unless configured otherwise. */
export const DEFAULT_INDEX_PREFIX = 'proxy-events';

/** Daily index name for a moment, in UTC: `<prefix>-YYYY.MM.DD`. */
export function dailyIndexName(prefix: string, at: Date): string {
  const day = at.toISOString().slice(0, 10).replaceAll('-', '.');
  return `${prefix}-${day}`;
}

/** The prefix of the trail's checkpoint indices: `<prefix>.trail-YYYY.MM.DD`, outside the events' `<prefix>-*`. */
export function trailIndexPrefix(prefix: string): string {
  return `${prefix}.trail`;
}

/** The UTC day a daily index holds, or undefined for a name that is not one of ours. */
export function dayOfDailyIndex(prefix: string, indexName: string): Date | undefined {
  if (!indexName.startsWith(`${prefix}-`)) return undefined;
  const match = /^(\d{4})\.(\d{2})\.(\d{2})$/.exec(indexName.slice(prefix.length + 1));
  if (!match) return undefined;
  const day = new Date(`${match[1]}-${match[2]}-${match[3]}T00:00:00.000Z`);
  return Number.isNaN(day.getTime()) ? undefined : day;
}

/** What queries and Kibana's data view read: every daily index of the prefix. */
export function indexPattern(prefix: string): string {
  return `${prefix}-*`;
}

/** `_meta.managed_by` of this project's index templates: how retention tells them from others on a cluster. */
export const TEMPLATE_MANAGER = 'proxy-access-log';

export function indexTemplateName(prefix: string): string {
  return `${prefix}-template`;
}

/**
 * The composable index template for the daily indices.
 * `dynamic: false` rather than `strict`: a field this version does not know (written by a newer
 * shipper during a rolling upgrade) stays in `_source` unindexed instead of rejecting the whole
 * event, and still cannot blow up the mapping.
 */
export function indexTemplate(prefix: string) {
  return {
    name: indexTemplateName(prefix),
    index_patterns: [indexPattern(prefix), indexPattern(trailIndexPrefix(prefix))],
    priority: 200,
    template: {
      settings: {
        number_of_shards: 1,
        // One replica where the cluster has a second node, none on a single node (green either way).
        auto_expand_replicas: '0-1',
        refresh_interval: '1s',
        // Not `codec: best_compression`: it halves `_source` (506 → 284 bytes per document) but made
        // fetching a page of 100 recent events 2.4× slower (p50 112 against 46 ms, 300,000
        // documents), the page's most common request.
      },
      mappings: {
        dynamic: false as const,
        properties: mappingProperties(),
      },
    },
    _meta: { description: 'Reverse-proxy access events (ECS) and their trail checkpoints, one daily index per UTC day', managed_by: TEMPLATE_MANAGER, index_prefix: prefix },
  };
}
