// A known data set for the API's suites and benchmark: seeded, varied access records (every
// category, auth method, public and private IPv4/IPv6 sources, users with and without e-mail,
// times spread over a window), their documents, and a bulk loader into daily indices.

import type { ElasticsearchConnection } from '../../common/elasticsearch-connection.ts';
import { categoryOf, type AccessRecord, type AuthMethod } from '../../common/access-record.ts';
import { installIndexTemplate } from '../../common/index-lifecycle.ts';
import { dailyIndexName, indexPattern, type ProxyEventDocument } from '../../common/proxy-event-document.ts';
import { createStorage } from '../../common/storage/create.ts';
import type { Storage } from '../../common/storage/storage.ts';
import { toDocument } from '../../shipper/document.ts';

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Service {
  id: string;
  host: string;
  auth: AuthMethod;
}

export const SERVICES: Service[] = [
  { id: 'grafana', host: 'grafana.example.com', auth: 'sso' },
  { id: 'wiki', host: 'wiki.example.com', auth: 'password' },
  { id: 'git', host: 'git.example.com', auth: 'pin' },
  { id: 'files', host: 'files.example.com', auth: 'none' },
  { id: 'chat', host: 'chat.example.org', auth: 'sso' },
];
const UNKNOWN_HOSTS = ['scan.example.net', 'Old-Host.example.net'.toLowerCase(), '203.0.113.9'];
const PATHS = ['/', '/login', '/api/v1/users', '/api/v1/items/7', '/dashboard/42', '/static/app.js', '/search', '/admin/Settings', '/files/Report_2026.pdf', '/wp-login.php', '/a*b?c', '/100%/done'];
const METHODS = ['GET', 'GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];
const STATUSES = [200, 200, 200, 200, 200, 200, 200, 204, 301, 302, 304, 101, 401, 401, 403, 429, 404, 404, 400, 499, 500, 502, 503, 504];
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank@corp', 'Grace.H'];
/** The SSO display names of some users (the others' ID tokens carry none). */
const USER_NAMES: Record<string, string> = { alice: 'Alice Archer', bob: 'Bob Baker', carol: 'Carol Chen', 'Grace.H': 'Grace Hopper' };
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0', 'curl/8.5.0', 'Go-http-client/1.1', '=cmd|calc', 'Mozilla/5.0 (Macintosh) Safari/605.1.15'];
const DENY_REASONS: Record<AuthMethod, string[]> = {
  sso: ['missing SSO session', 'user not allowed', 'SSO state mismatch'],
  password: ['invalid password'],
  pin: ['invalid PIN'],
  none: ['access denied by policy', 'authentication required'],
  basic: ['invalid password', 'unknown user'],
  link: ['link expired', 'link already used'],
};
const ERROR_REASONS = ['upstream connection refused', 'upstream timeout', 'upstream connection reset'];

/** Public addresses in many countries, private ones (no geo) and IPv6, drawn with a skew. */
function sourcePool(next: () => number): string[] {
  const firstOctets = [5, 24, 31, 37, 46, 62, 77, 81, 85, 91, 95, 109, 151, 176, 185, 188, 193, 195, 200, 203, 212, 217];
  const pool: string[] = [];
  for (let i = 0; i < 60; i++) {
    const a = firstOctets[i % firstOctets.length]!;
    pool.push(`${a}.${Math.floor(next() * 256)}.${Math.floor(next() * 256)}.${1 + Math.floor(next() * 254)}`);
  }
  pool.push('10.1.2.3', '10.1.9.77', '192.168.0.7', '172.16.5.4', '127.0.0.1', '2001:4860:4860::8888', '2a00:1450:4001:81c::200e', 'fd00::17');
  return pool;
}

function pick<T>(next: () => number, values: readonly T[]): T {
  return values[Math.floor(next() * values.length)]!;
}

export interface DatasetOptions {
  count: number;
  seed?: number;
  /** Newest possible time; records spread over `spanMs` before it. */
  end?: number;
  spanMs?: number;
}

export const DAY_MS = 86_400_000;

/** The i-th..count-th records of a seeded data set, generated lazily (a million fit in no memory). */
export function* generateRecords(options: DatasetOptions): Generator<AccessRecord> {
  const next = random(options.seed ?? 1);
  const end = options.end ?? Date.now();
  const span = options.spanMs ?? 7 * DAY_MS;
  const pool = sourcePool(next);
  for (let i = 0; i < options.count; i++) {
    const known = next() < 0.93;
    const service = known ? SERVICES[Math.floor(next() ** 1.6 * SERVICES.length)]! : undefined;
    const auth = service?.auth ?? 'none';
    const status = pick(next, STATUSES);
    const category = categoryOf(status);
    const record: AccessRecord = {
      time: new Date(end - Math.floor(next() * span)).toISOString(),
      id: `ev-${(options.seed ?? 1).toString(36)}-${i.toString(36).padStart(5, '0')}`,
      method: pick(next, METHODS),
      host: service?.host ?? pick(next, UNKNOWN_HOSTS),
      path: next() < 0.2 ? `${pick(next, PATHS)}/${Math.floor(next() * 50)}` : pick(next, PATHS),
      status,
      duration_ms: Math.round(next() ** 3 * 3_000_000) / 1000,
      source_ip: pool[Math.floor(next() ** 2 * pool.length)]!,
      auth_method: auth,
      bytes_in: next() < 0.7 ? 0 : Math.floor(next() * 100_000),
      bytes_out: Math.floor(next() * 2_000_000),
      protocol: next() < 0.9 ? 'https' : pick(next, ['http', 'wss'] as const),
      proxy: next() < 0.5 ? 'proxy-a' : 'proxy-b',
    };
    if (service) record.service = service.id;
    if (next() < 0.9) record.user_agent = pick(next, AGENTS);
    if (category === 'denied') record.reason = status === 429 ? 'too many failed attempts' : pick(next, DENY_REASONS[auth]);
    else if (category === 'error') record.reason = pick(next, ERROR_REASONS);
    else if (status === 499) record.reason = 'client closed the connection';
    if (auth !== 'none' && (category === 'allowed' || next() < 0.3)) {
      record.user_id = pick(next, USERS);
      if (auth === 'sso') record.user_email = `${record.user_id.toLowerCase()}@Example.com`;
      if (auth === 'sso' && Object.hasOwn(USER_NAMES, record.user_id)) record.user_name = USER_NAMES[record.user_id];
    }
    yield record;
  }
}

/**
 * Bulk-indexes documents into their daily indices (template installed first), with up to
 * `concurrency` bulk requests in flight; refreshes at the end.
 */
export async function indexDocuments(
  storage: Storage,
  prefix: string,
  documents: Iterable<ProxyEventDocument>,
  batchSize = 5_000,
  concurrency = 1,
): Promise<number> {
  await installIndexTemplate(storage, prefix);
  let count = 0;
  let operations: object[] = [];
  const inFlight = new Set<Promise<void>>();
  const send = async (batch: object[]) => {
    const failed = (await storage.bulk(batch, { refresh: false })).find((item) => item.error);
    if (failed) throw new Error(`bulk indexing failed: ${JSON.stringify(failed.error)}`);
  };
  const flush = async () => {
    if (operations.length === 0) return;
    const pending = send(operations).finally(() => inFlight.delete(pending));
    inFlight.add(pending);
    operations = [];
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
  };
  for (const document of documents) {
    operations.push({ index: { _index: dailyIndexName(prefix, new Date(document['@timestamp'])), _id: document.event.id } }, document);
    count++;
    if (operations.length >= batchSize * 2) await flush();
  }
  await flush();
  await Promise.all(inFlight);
  await storage.refresh(indexPattern(prefix));
  return count;
}

export interface Dataset {
  records: AccessRecord[];
  documents: ProxyEventDocument[];
}

/** Minutes, not the connection's usual seconds: a big bulk on a busy machine takes a while. */
const LOAD_TIMEOUT_MS = 600_000;

/** Storage for loading data: the connection's timeout caps every request it makes. */
export function loadingStorage(connection: ElasticsearchConnection): Storage {
  return createStorage({ ...connection, request_timeout_ms: LOAD_TIMEOUT_MS });
}

/** Generates a data set, indexes it in one bulk request, and returns it for independent checks. */
export async function loadDataset(connection: ElasticsearchConnection, prefix: string, options: DatasetOptions): Promise<Dataset> {
  const records = [...generateRecords(options)];
  const documents = records.map(toDocument);
  const storage = loadingStorage(connection);
  try {
    await indexDocuments(storage, prefix, documents, documents.length);
  } finally {
    await storage.close();
  }
  return { records, documents };
}
