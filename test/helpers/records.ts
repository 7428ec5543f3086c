// Access-log records for tests and benchmarks: valid by the record schema, varied enough to
// exercise the document mapping (statuses of every category, public and private addresses).

import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACCESS_LOG_BASENAME, ACCESS_LOG_EXTENSION, AUTH_METHODS, type AccessRecord } from '../../common/access-record.ts';

const STATUSES = [200, 200, 200, 204, 301, 304, 401, 403, 404, 429, 499, 502, 504];
const SOURCE_IPS = ['81.2.69.142', '8.8.8.8', '10.1.2.3', '192.168.0.7', '2001:4860:4860::8888', '127.0.0.1'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const HOSTS = ['app.example.com', 'wiki.example.com', 'grafana.example.com'];

export interface RecordOptions {
  /** The request's time; by default a fixed recent moment plus `i` milliseconds. */
  time?: Date;
  proxy?: string;
  overrides?: Partial<AccessRecord>;
}

const BASE_TIME = Date.parse('2026-01-15T12:00:00.000Z');

/** The i-th test record: deterministic, unique id `req-<i>`. */
export function testRecord(i: number, options: RecordOptions = {}): AccessRecord {
  const status = STATUSES[i % STATUSES.length]!;
  const record: AccessRecord = {
    time: (options.time ?? new Date(BASE_TIME + i)).toISOString(),
    id: `req-${i}`,
    service: HOSTS[i % HOSTS.length]!.split('.')[0]!,
    method: METHODS[i % METHODS.length]!,
    host: HOSTS[i % HOSTS.length]!,
    path: `/items/${i % 1000}`,
    status,
    duration_ms: (i % 500) / 3,
    source_ip: SOURCE_IPS[i % SOURCE_IPS.length]!,
    auth_method: AUTH_METHODS[i % AUTH_METHODS.length]!,
    bytes_in: i % 7 === 0 ? 512 : 0,
    bytes_out: 1000 + (i % 5000),
    user_agent: 'Mozilla/5.0 (X11; Linux x86_64) test',
    protocol: 'https',
    proxy: options.proxy ?? 'proxy-test',
  };
  if (status === 401) record.reason = 'invalid password';
  if (status >= 500) record.reason = 'upstream connection refused';
  if (status < 400 && record.auth_method !== 'none') record.user_id = `user-${i % 17}`;
  return { ...record, ...options.overrides };
}

export function recordLine(record: AccessRecord): string {
  return JSON.stringify(record) + '\n';
}

/** Appends records `from` ≤ i < `to` to a log file, as the proxy would. */
export function appendRecords(directory: string, fileNumber: number, from: number, to: number, options: RecordOptions = {}): void {
  let text = '';
  for (let i = from; i < to; i++) text += recordLine(testRecord(i, options));
  appendFileSync(join(directory, accessLogName(fileNumber)), text);
}

export function accessLogName(fileNumber: number): string {
  return `${ACCESS_LOG_BASENAME}.${fileNumber}.${ACCESS_LOG_EXTENSION}`;
}
