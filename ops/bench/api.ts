// `npm run bench:api`: indexes 1,000,000 generated documents (7 days up to now, chained as a proxy
// writes them), then times typical queries through the API and the same Elasticsearch request sent
// directly, interleaved in the same run, and reports p50/p95, the API's overhead and the store's
// bytes per document after a force-merge. Uses ELASTICSEARCH_URL when set, otherwise
// starts a local node. Options: --documents N (default 1000000), --runs N (default 200).
// With --concurrency 8,32,128 it measures the API under load instead (ops/bench/api/load.ts:
// req/s, p50/p99 and CPU per level against Elasticsearch directly, and the API's RSS through a
// 20-client export burst; --seconds N per run, default 15) and rewrites its section of BENCHMARKS.md.

import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { connectionFromEnv, createElasticsearchClient } from '../../common/elasticsearch-connection.ts';
import { ElasticsearchStorage } from '../../common/storage/elasticsearch.ts';
import { indexPattern, indexTemplateName } from '../../common/proxy-event-document.ts';
import { generateToken, hashToken } from '../../api/tokens.ts';
import { DAY_MS } from '../../test/helpers/dataset.ts';
import { startLocalNode } from '../elasticsearch/local-node.ts';
import { EXPORT_CLIENTS, runExportBurst, runLoadLevels, startApiProcess } from './api/load.ts';
import { renderLoadSection } from './api/load-report.ts';
import { OWNED_SECTIONS, writeSection } from './report/sections.ts';
import { benchQueries, loadQueries } from './api/queries.ts';
import { compareLatency, deepCursor, deepRecord, WARMUP_RUNS } from './api/latency.ts';
import { loadDocuments, type IndexAdmin } from './api/load-documents.ts';
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
const DEEP = deepRecord(DOCS);
const log = (line: string) => process.stderr.write(`${line}\n`);

const node = connectionFromEnv() ? undefined : await startLocalNode({ log });
const connection = connectionFromEnv() ?? { url: node!.url, request_timeout_ms: 30_000 };
const prefix = `bench-api-${randomBytes(3).toString('hex')}`;
/** Elasticsearch's client: the index settings, force-merge and `_disk_usage` are not in the storage seam. */
const loader = new ElasticsearchStorage(createElasticsearchClient({ ...connection, request_timeout_ms: 600_000 }));
const client = createElasticsearchClient({ ...connection, request_timeout_ms: 30_000 });
const elasticsearchAdmin: IndexAdmin = {
  async createIndex(index, settings) {
    await loader.client.indices.create({ index, settings }, { ignore: [400] });
  },
  async putSettings(index, settings) {
    await loader.client.indices.putSettings({ index, settings });
  },
  async forceMerge(index) {
    await loader.client.indices.forcemerge({ index, max_num_segments: 1 });
    await loader.client.indices.refresh({ index });
  },
};
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
async function latencyComparison(cursor: string, indexSeconds: number, storage: DiskUsage): Promise<void> {
  const rows = await compareLatency({ storage: new ElasticsearchStorage(client), prefix, queries: benchQueries(now, cursor, DEEP), runs: RUNS, log });
  const ms = (n: number) => n.toFixed(1).padStart(7);
  console.log(`\nAPI benchmark: ${DOCS.toLocaleString('en')} documents over 7 days, ${RUNS} timed runs per query (after ${WARMUP_RUNS} warm-up), ${new Date(now).toISOString()}`);
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
  const indexSeconds = await loadDocuments(loader, elasticsearchAdmin, prefix, DOCS, now);
  const storage = await diskUsage(loader.client, indexPattern(prefix));
  log(`indexed in ${indexSeconds.toFixed(0)} s (${Math.round(DOCS / indexSeconds).toLocaleString('en')} docs/s)`);

  const cursor = await deepCursor(loader, prefix, DEEP);
  if (LEVELS) await underLoad(cursor, generateToken());
  else await latencyComparison(cursor, indexSeconds, storage);
} finally {
  await stopEverything();
  await rm(dir, { recursive: true, force: true });
  await loader.client.indices.delete({ index: indexPattern(prefix), ignore_unavailable: true, allow_no_indices: true }).catch(() => undefined);
  await loader.client.indices.deleteIndexTemplate({ name: indexTemplateName(prefix) }, { ignore: [404] }).catch(() => undefined);
  await loader.close();
  await client.close();
  await node?.stop();
}
