// The API's overhead, query by query: each query through the API (in this process, on an ephemeral
// port) and the same search request sent directly through the storage seam, one at a time,
// interleaved, so both see the same cluster state. On either engine: the store decides which.

import type { AddressInfo } from 'node:net';
import type { estypes } from '@elastic/elasticsearch';
import pino from 'pino';
import { request } from 'undici';
import { createApp } from '../../../api/app.ts';
import { EventStore } from '../../../api/event-store.ts';
import { encodeCursor, sortClause } from '../../../api/query/sort.ts';
import { generateToken, hashToken } from '../../../api/tokens.ts';
import { indexPattern } from '../../../common/proxy-event-document.ts';
import type { Storage } from '../../../common/storage/storage.ts';
import { percentile, type BenchQuery } from './queries.ts';

/** Untimed runs of each query before the timed ones. */
export const WARMUP_RUNS = 20;
const TIMEOUT_MS = 30_000;

export interface LatencyRow {
  query: string;
  direct_p50: number;
  direct_p95: number;
  api_p50: number;
  api_p95: number;
  overhead_ms: number;
  overhead_pct: number;
  /** The API's target: at most 10% or 5 ms over the direct query. */
  within_target: boolean;
}

/** The deep page of a data set of `documents`: record 50,000, or half way into a smaller one. */
export function deepRecord(documents: number): number {
  return Math.min(50_000, Math.floor(documents / 2 / 10_000) * 10_000 || 10_000);
}

/** Walks search_after directly to record `deep` and answers the API's cursor for the page after it. */
export async function deepCursor(storage: Storage, prefix: string, deep: number): Promise<string> {
  let after: estypes.FieldValue[] | undefined;
  for (let seen = 0; seen < deep; seen += 10_000) {
    const page = await storage.search({ index: indexPattern(prefix), size: 10_000, sort: sortClause('timestamp', 'desc'), _source: false, search_after: after, track_total_hits: false });
    after = page.hits.hits.at(-1)!.sort as estypes.FieldValue[];
  }
  return encodeCursor({ sortBy: 'timestamp', sortOrder: 'desc', after: after!, seen: deep });
}

export async function compareLatency(options: { storage: Storage; prefix: string; queries: BenchQuery[]; runs: number; log: (line: string) => void }): Promise<LatencyRow[]> {
  const token = generateToken();
  const store = new EventStore(options.storage, options.prefix, TIMEOUT_MS);
  const app = createApp({ store, tokens: [{ name: 'bench', sha256: hashToken(token) }], logger: pino({ level: 'warn' }, pino.destination(2)) });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const rows: LatencyRow[] = [];
  try {
    for (const query of options.queries) {
      const url = `${base}${query.path}?${new URLSearchParams(query.params)}`;
      // undici's request, like the engines' clients' own transports: fetch would add its own cost.
      const viaApi = async () => {
        const response = await request(url, { headers: { authorization: `Bearer ${token}` } });
        if (response.statusCode !== 200) throw new Error(`${query.name}: ${response.statusCode} ${await response.body.text()}`);
        await response.body.json();
      };
      const direct = () => store.search(query.request);
      const times = { api: [] as number[], direct: [] as number[] };
      for (let i = 0; i < WARMUP_RUNS + options.runs; i++) {
        // Alternating which goes first.
        const order = i % 2 === 0 ? (['api', 'direct'] as const) : (['direct', 'api'] as const);
        for (const which of order) {
          const t0 = performance.now();
          await (which === 'api' ? viaApi() : direct());
          if (i >= WARMUP_RUNS) times[which].push(performance.now() - t0);
        }
      }
      times.api.sort((a, b) => a - b);
      times.direct.sort((a, b) => a - b);
      const row = { query: query.name, direct_p50: percentile(times.direct, 50), direct_p95: percentile(times.direct, 95), api_p50: percentile(times.api, 50), api_p95: percentile(times.api, 95) };
      const overhead = row.api_p50 - row.direct_p50;
      rows.push({ ...row, overhead_ms: overhead, overhead_pct: (overhead / row.direct_p50) * 100, within_target: overhead <= 5 || overhead <= row.direct_p50 * 0.1 });
      options.log(`${query.name}: done`);
    }
  } finally {
    server.close();
  }
  return rows;
}
