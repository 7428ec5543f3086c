// The API under test: the real Koa app on an ephemeral port, reading a suite's indices on the
// test Elasticsearch (or any connection given), with one known token (or the tokens given) and,
// when given, an audit file. Its log (real pino lines) is kept for the test to read; errors are
// also copied to stderr.

import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import pino from 'pino';
import { Agent, type Dispatcher } from 'undici';
import type { ElasticsearchConnection } from '../../common/elasticsearch-connection.ts';
import { createStorage } from '../../common/storage/create.ts';
import { createApp } from '../../api/app.ts';
import { EventStore } from '../../api/event-store.ts';
import type { AuditFile } from '../../api/audit/audit-file.ts';
import type { InsightsConfig } from '../../api/insights/config.ts';
import { hashToken, type ConfiguredToken } from '../../api/tokens.ts';
import { openPointsInTime } from '../helpers/elasticsearch.ts';

export const TOKEN = 'test-token-0123456789abcdefghijklmnop';

export interface ApiHarness {
  url: string;
  /**
   * GET (or `method`) with the test token unless `token` says otherwise (null: no Authorization
   * header), each on a connection of its own: under load, a request sent on a pooled keep-alive
   * connection the server was closing failed with ECONNRESET (the API runs in the suite's process,
   * where a long synchronous check holds back both sides' keep-alive timers).
   */
  get(path: string, options?: { token?: string | null; headers?: Record<string, string>; method?: string; signal?: AbortSignal }): Promise<Response>;
  json<T = any>(path: string): Promise<{ status: number; body: T }>;
  /** Every line the API has logged so far, parsed. */
  logLines(): Record<string, any>[];
  close(): Promise<void>;
}

export async function startApi(options: {
  connection: ElasticsearchConnection;
  prefix: string;
  timeoutMs?: number;
  corsOrigins?: string[];
  tokens?: ConfiguredToken[];
  audit?: AuditFile;
  insights?: InsightsConfig;
}): Promise<ApiHarness> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const logged: string[] = [];
  const storage = createStorage({ ...options.connection, request_timeout_ms: timeoutMs });
  const app = createApp({
    store: new EventStore(storage, options.prefix, timeoutMs),
    tokens: options.tokens ?? [{ name: 'test', sha256: hashToken(TOKEN) }],
    audit: options.audit,
    logger: pino({ level: 'info' }, {
      write(line: string) {
        logged.push(line);
        if (JSON.parse(line).level >= 50) process.stderr.write(line);
      },
    }),
    corsOrigins: options.corsOrigins,
    insights: options.insights,
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dispatcher = new Agent({ pipelining: 0 });
  const get: ApiHarness['get'] = (path, { token = TOKEN, headers = {}, method, signal } = {}) => {
    const init: RequestInit & { dispatcher: Dispatcher } = { method, signal, dispatcher, headers: token === null ? headers : { authorization: `Bearer ${token}`, ...headers } };
    return fetch(`${url}${path}`, init);
  };
  return {
    url,
    get,
    async json(path) {
      const response = await get(path);
      return { status: response.status, body: await response.json() };
    },
    logLines: () => logged.map((line) => JSON.parse(line)),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await storage.close();
      await dispatcher.close();
    },
  };
}

/** `?a=1&b=2&b=3` from a map whose array values repeat the parameter. */
export function query(params: Record<string, string | number | (string | number)[] | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) search.append(name, String(one));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** Waits (up to 5 s) for the cluster's open points in time to fall back to `before`. */
export async function pointsInTimeBackTo(connection: ElasticsearchConnection, before: number): Promise<void> {
  let now = await openPointsInTime(connection);
  for (let i = 0; i < 50 && now > before; i++) {
    await new Promise((r) => setTimeout(r, 100));
    now = await openPointsInTime(connection);
  }
  assert.ok(now <= before, `open points in time ${now}, before ${before}`);
}
