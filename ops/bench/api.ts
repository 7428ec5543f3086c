// `npm run bench:api`: indexes 1,000,000 generated documents (7 days up to now, chained as a proxy
// writes them), then times typical queries through the API and the same Elasticsearch request sent
// directly, interleaved in the same run, and reports p50/p95, the API's overhead and the store's
// bytes per document after a force-merge. Uses ELASTICSEARCH_URL when set, otherwise
// starts a local node. Options: --documents N (default 1000000), --runs N (default 200).
// With --concurrency 8,32,128 it measures the API under load instead (ops/bench/api/load.ts:
// req/s, p50/p99 and CPU per level against Elasticsearch directly, and the API's RSS through a
// 20-client export burst; --seconds N per run, default 15) and rewrites its section of BENCHMARKS.md.

import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { estypes } from '@elastic/elasticsearch';
import pino from 'pino';
import { request } from 'undici';
import { connectionFromEnv, createElasticsearchClient } from '../../common/elasticsearch-connection.ts';
import { installIndexTemplate } from '../../common/index-lifecycle.ts';
import { ElasticsearchStorage } from '../../common/storage/elasticsearch.ts';
import { dailyIndexName, indexPattern, indexTemplateName } from '../../common/proxy-event-document.ts';
import { createApp } from '../../api/app.ts';
import { EventStore } from '../../api/event-store.ts';
import { encodeCursor, sortClause } from '../../api/query/sort.ts';
import { generateToken, hashToken } from '../../api/tokens.ts';
import { DAY_MS, generateRecords, indexDocuments } from '../../test/helpers/dataset.ts';
import { startLocalNode } from '../elasticsearch/local-node.ts';
import { EXPORT_CLIENTS, runExportBurst, runLoadLevels, startApiProcess } from './api/load.ts';
import { renderLoadSection } from './api/load-report.ts';
import { OWNED_SECTIONS, writeSection } from './report/sections.ts';
import { benchQueries, loadQueries, percentile } from './api/queries.ts';
import { chainedDocuments } from './api/documents.ts';
import { diskUsage, renderDiskUsage, type DiskUsage } from './api/disk-usage.ts';
import { stopEverything } from './peers/processes.ts';

const { values } = parseArgs({
  options: {
    documents: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '200' },
    concurrency: { type: 'string' },
    seconds: { type: 'string', default: '15' },
  },
});
const positive = (value: string, name: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name}: expected a positive integer, got "${value}"`);
  return parsed;
};
const DOCS = positive(values.documents, 'documents');
const RUNS = positive(values.runs, 'runs');
const LEVELS = values.concurrency?.split(',').map((level) => positive(level.trim(), 'concurrency'));
const SECONDS = positive(values.seconds, 'seconds');
const WARMUP = 20;
/** The deep cursor's page: record 50,000, or half way into a smaller data set. */
const DEEP = Math.min(50_000, Math.floor(DOCS / 2 / 10_000) * 10_000 || 10_000);
const LOADING_SETTINGS = { refresh_interval: '-1', 'translog.durability': 'async' } as const;
const log = (line: string) => process.stderr.write(`${line}\n`);

const node = connectionFromEnv() ? undefined : await startLocalNode({ log });
const connection = connectionFromEnv() ?? { url: node!.url, request_timeout_ms: 30_000 };
const prefix = `bench-api-${randomBytes(3).toString('hex')}`;
/** Elasticsearch only: the loading settings below are its own. */
const loader = new ElasticsearchStorage(createElasticsearchClient({ ...connection, request_timeout_ms: 600_000 }));
const client = createElasticsearchClient({ ...connection, request_timeout_ms: 30_000 });
const now = Date.now();
const dir = await mkdtemp(join(tmpdir(), 'bench-api-'));

/** The concurrency levels, the export burst, and their section of BENCHMARKS.md. */
async function underLoad(deepCursor: string, token: string): Promise<void> {
  const api = await startApiProcess({ dir, esUrl: connection.url, prefix, tokenSha256: hashToken(token) });
  const loadStart = loadavg()[0]!;
  const started = new Date().toISOString();
  const rows = await runLoadLevels({ dir, api, token, esUrl: connection.url, esPid: node?.pid, prefix, queries: loadQueries(now, deepCursor, DEEP), levels: LEVELS!, seconds: SECONDS, log });
  // The last day: a seventh of the data per client, so the burst stays minutes long at 1M documents.
  const exportParams = { start_date: new Date(now - DAY_MS).toISOString(), end_date: new Date(now).toISOString() };
  log(`export burst: ${EXPORT_CLIENTS} clients`);
  const burst = await runExportBurst({ api, token, params: exportParams, clients: EXPORT_CLIENTS });
  await api.stop();
  const section = renderLoadSection({
    command: `npm run bench:api -- ${process.argv.slice(2).join(' ')}`,
    started,
    documents: DOCS,
    seconds: SECONDS,
    loadAverage: [loadStart, loadavg()[0]!],
    rows,
    burst,
    exportParams,
  });
  writeSection(new URL('../../BENCHMARKS.md', import.meta.url).pathname, OWNED_SECTIONS.apiLoad, section);
  console.log(section);
}

/** Each query through the API and directly, one at a time, interleaved: the API's overhead. */
async function latencyComparison(deepCursor: string, token: string, indexSeconds: number, storage: DiskUsage): Promise<void> {
  const store = new EventStore(new ElasticsearchStorage(client), prefix, 30_000);
  const app = createApp({ store, tokens: [{ name: 'bench', sha256: hashToken(token) }], logger: pino({ level: 'warn' }, pino.destination(2)) });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const rows = [];
  for (const query of benchQueries(now, deepCursor, DEEP)) {
    const url = `${base}${query.path}?${new URLSearchParams(query.params)}`;
    // undici's request, like the Elasticsearch client's own transport: fetch would add its own cost.
    const viaApi = async () => {
      const response = await request(url, { headers: { authorization: `Bearer ${token}` } });
      if (response.statusCode !== 200) throw new Error(`${query.name}: ${response.statusCode} ${await response.body.text()}`);
      await response.body.json();
    };
    const direct = () => store.search(query.request);
    const times = { api: [] as number[], direct: [] as number[] };
    for (let i = 0; i < WARMUP + RUNS; i++) {
      // Interleaved, alternating which goes first, so both see the same cluster state.
      const order = i % 2 === 0 ? (['api', 'direct'] as const) : (['direct', 'api'] as const);
      for (const which of order) {
        const t0 = performance.now();
        await (which === 'api' ? viaApi() : direct());
        if (i >= WARMUP) times[which].push(performance.now() - t0);
      }
    }
    times.api.sort((a, b) => a - b);
    times.direct.sort((a, b) => a - b);
    const row = {
      query: query.name,
      direct_p50: percentile(times.direct, 50),
      direct_p95: percentile(times.direct, 95),
      api_p50: percentile(times.api, 50),
      api_p95: percentile(times.api, 95),
    };
    const overhead = row.api_p50 - row.direct_p50;
    rows.push({ ...row, overhead_ms: overhead, overhead_pct: (overhead / row.direct_p50) * 100, within_target: overhead <= 5 || overhead <= row.direct_p50 * 0.1 });
    log(`${query.name}: done`);
  }
  server.close();

  const ms = (n: number) => n.toFixed(1).padStart(7);
  console.log(`\nAPI benchmark: ${DOCS.toLocaleString('en')} documents over 7 days, ${RUNS} timed runs per query (after ${WARMUP} warm-up), ${new Date(now).toISOString()}`);
  console.log(`indexing: ${indexSeconds.toFixed(0)} s, ${Math.round(DOCS / indexSeconds).toLocaleString('en')} docs/s\n`);
  console.log('| query | direct p50 ms | direct p95 ms | API p50 ms | API p95 ms | overhead p50 | target (≤10% or ≤5 ms) |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows) {
    console.log(`| ${r.query} | ${ms(r.direct_p50)} | ${ms(r.direct_p95)} | ${ms(r.api_p50)} | ${ms(r.api_p95)} | ${r.overhead_ms.toFixed(1)} ms (${r.overhead_pct.toFixed(0)}%) | ${r.within_target ? 'met' : 'MISSED'} |`);
  }
  console.log(`\n${renderDiskUsage(storage)}`);
}

try {
  log(`indexing ${DOCS.toLocaleString('en')} documents into ${prefix}-*`);
  const started = performance.now();
  const documents = (function* () {
    yield* chainedDocuments(generateRecords({ count: DOCS, seed: 42, end: now }));
  })();
  // Loading only: the daily indices exist up front without refreshes or per-request fsyncs.
  await installIndexTemplate(loader, prefix);
  for (let day = now - 8 * DAY_MS; day <= now + DAY_MS; day += DAY_MS) {
    await loader.client.indices.create({ index: dailyIndexName(prefix, new Date(day)), settings: LOADING_SETTINGS }, { ignore: [400] });
  }
  await indexDocuments(loader, prefix, documents, 5_000, 2);
  await loader.client.indices.putSettings({ index: indexPattern(prefix), settings: { refresh_interval: '1s', 'translog.durability': 'request' } });
  await loader.client.indices.forcemerge({ index: indexPattern(prefix), max_num_segments: 1 });
  await loader.client.indices.refresh({ index: indexPattern(prefix) });
  const indexSeconds = (performance.now() - started) / 1000;
  const storage = await diskUsage(loader.client, indexPattern(prefix));
  log(`indexed in ${indexSeconds.toFixed(0)} s (${Math.round(DOCS / indexSeconds).toLocaleString('en')} docs/s)`);

  // The deep page: walk search_after directly to record 50,000, then hand the API that cursor.
  let after: estypes.FieldValue[] | undefined;
  for (let seen = 0; seen < DEEP; seen += 10_000) {
    const page = await client.search({ index: indexPattern(prefix), size: 10_000, sort: sortClause('timestamp', 'desc'), _source: false, search_after: after, track_total_hits: false });
    after = page.hits.hits.at(-1)!.sort as estypes.FieldValue[];
  }
  const deepCursor = encodeCursor({ sortBy: 'timestamp', sortOrder: 'desc', after: after!, seen: DEEP });

  const token = generateToken();
  if (LEVELS) await underLoad(deepCursor, token);
  else await latencyComparison(deepCursor, token, indexSeconds, storage);
} finally {
  await stopEverything();
  await rm(dir, { recursive: true, force: true });
  await loader.client.indices.delete({ index: indexPattern(prefix), ignore_unavailable: true, allow_no_indices: true }).catch(() => undefined);
  await loader.client.indices.deleteIndexTemplate({ name: indexTemplateName(prefix) }, { ignore: [404] }).catch(() => undefined);
  await loader.close();
  await client.close();
  await node?.stop();
}
