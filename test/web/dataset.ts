// The browser suite's known data set: records at fixed ages before `now`, varied across hosts,
// countries, outcomes, methods, users and auth methods, plus a block of old records (outside the
// 30-day preset) big enough to need cursor paging. Expected counts are computed from these
// records in the tests, independently of the API.

import type { Client } from '@elastic/elasticsearch';
import type { AccessRecord, AuthMethod } from '../../common/access-record.ts';
import { dailyIndexName, indexTemplate } from '../../common/proxy-event-document.ts';
import { toDocument } from '../../shipper/document.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const SERVICES: { host: string; service: string; auth: AuthMethod }[] = [
  { host: 'app.example.com', service: 'app', auth: 'sso' },
  { host: 'wiki.example.com', service: 'wiki', auth: 'password' },
  { host: 'grafana.example.com', service: 'grafana', auth: 'pin' },
  { host: 'status.example.com', service: 'status', auth: 'none' },
  { host: 'app.example.com', service: 'app', auth: 'sso' },
];
// Public addresses geoip-lite places in GB, US, DE, JP, RU, BR and ZM; one private, one IPv6.
export const SOURCE_IPS = ['81.2.69.142', '8.8.8.8', '5.9.0.1', '202.12.27.33', '77.88.8.8', '200.160.2.3', '41.63.0.1', '10.1.2.3', '2001:4860:4860::8888'];
const AGES = [2 * MINUTE, 8 * MINUTE, 30 * MINUTE, 50 * MINUTE, 3 * HOUR, 10 * HOUR, 20 * HOUR, 2 * DAY, 5 * DAY, 12 * DAY, 25 * DAY, 45 * DAY];
const STATUSES = [200, 200, 401, 200, 302, 403, 200, 502, 404, 200, 429, 504, 200];
const METHODS = ['GET', 'GET', 'POST', 'GET', 'PUT', 'GET', 'DELETE'];
const USERS = ['alice', 'bob', 'carol'];
/** SSO display names; carol's ID token carries none. */
export const USER_NAMES: Record<string, string> = { alice: 'Alice Archer', bob: 'Bob Baker' };
export const USER_EMAIL_DOMAIN = 'example.org';

function reasonOf(status: number, auth: AuthMethod): string | undefined {
  if (status === 401) return auth === 'sso' ? 'missing SSO session' : `invalid ${auth === 'pin' ? 'PIN' : 'password'}`;
  if (status === 403) return 'user not in an allowed group';
  if (status === 429) return 'too many failed attempts';
  if (status === 502) return 'upstream connection refused';
  if (status === 504) return 'upstream timed out';
  return undefined;
}

export const RECORD_COUNT = 156;

export function knownRecords(now: number): AccessRecord[] {
  const records: AccessRecord[] = [];
  for (let i = 0; i < RECORD_COUNT; i++) {
    const { host, service, auth } = SERVICES[i % SERVICES.length]!;
    const status = STATUSES[i % STATUSES.length]!;
    const record: AccessRecord = {
      // Distinct times within each age group, so every sort is a total order.
      time: new Date(now - AGES[i % AGES.length]! - i * 1_013).toISOString(),
      id: `web-${String(i).padStart(4, '0')}`,
      service,
      method: METHODS[i % METHODS.length]!,
      host,
      path: `/${service}/page/${i % 9}`,
      status,
      duration_ms: 3 + ((i * 37) % 900),
      source_ip: SOURCE_IPS[(i * 5) % SOURCE_IPS.length]!,
      auth_method: auth,
      bytes_in: (i % 4) * 300,
      bytes_out: 500 + i * 97,
      user_agent: 'Mozilla/5.0 (X11; Linux x86_64) web-test',
      protocol: 'https',
      proxy: 'proxy-web',
    };
    const reason = reasonOf(status, auth);
    if (reason) record.reason = reason;
    if (auth !== 'none' && (status < 400 || status >= 500)) {
      record.user_id = USERS[i % USERS.length]!;
      if (auth === 'sso') record.user_email = `${record.user_id}@${USER_EMAIL_DOMAIN}`;
      if (auth === 'sso' && Object.hasOwn(USER_NAMES, record.user_id)) record.user_name = USER_NAMES[record.user_id];
    }
    records.push(record);
  }
  return records;
}

/** Old records (40 to 41 days back) for deep paging: more than the 10,000 offset window. */
export const DEEP_COUNT = 10_120;
export const DEEP_HOST = 'archive.example.com';

export function deepRecords(now: number): AccessRecord[] {
  const start = now - 41 * DAY;
  return Array.from({ length: DEEP_COUNT }, (_, i) => ({
    time: new Date(start + i * 5_000).toISOString(),
    id: `deep-${String(i).padStart(6, '0')}`,
    service: 'archive',
    method: 'GET',
    host: DEEP_HOST,
    path: `/archive/${i}`,
    status: 200,
    duration_ms: 1,
    source_ip: '10.9.8.7',
    auth_method: 'none' as const,
    bytes_in: 0,
    bytes_out: 100,
    protocol: 'http' as const,
    proxy: 'proxy-web',
  }));
}

/**
 * The first bulk creates a dozen daily indices: slow on a busy machine, so not the default 10 s.
 * A client's own timeout caps a request's (undici's headers timeout), so the client must be made
 * with it: `createElasticsearchClient(connection, { requestTimeout: SLOW_REQUEST_MS })`.
 */
export const SLOW_REQUEST_MS = 120_000;

export async function indexRecords(client: Client, prefix: string, records: AccessRecord[]): Promise<void> {
  await client.indices.putIndexTemplate(indexTemplate(prefix));
  const CHUNK = 4_000;
  for (let from = 0; from < records.length; from += CHUNK) {
    const operations = records.slice(from, from + CHUNK).flatMap((record) => [
      { create: { _index: dailyIndexName(prefix, new Date(record.time)), _id: record.id } },
      toDocument(record),
    ]);
    const response = await client.bulk({ operations, refresh: false }, { requestTimeout: SLOW_REQUEST_MS });
    if (response.errors) throw new Error(`indexing the web test data failed: ${JSON.stringify(response.items.find((i) => i.create?.error))}`);
  }
  await client.indices.refresh({ index: `${prefix}-*` }, { requestTimeout: SLOW_REQUEST_MS });
}
