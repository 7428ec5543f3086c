// The engines side by side: a local Elasticsearch node, then (once it is stopped) a local OpenSearch
// node, one at a time with the same heap, each taking the same work from this project. On each:
// the same N-line backlog shipped by this shipper (one untimed run to warm the node, then `rounds`
// timed runs from the shipper's start to the last line searchable), with the engine's CPU from
// /proc and the bytes per document of the segments left by a force-merge; then the same M generated
// documents loaded and the API's queries timed against the same queries sent directly
// (ops/bench/api/latency.ts, the API part's runner and query set).

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { indexPattern } from '../../../common/proxy-event-document.ts';
import { ProxyAccessLogError } from '../../../common/errors.ts';
import { ENGINES, type Engine } from '../../../common/search-engine.ts';
import { createStorage } from '../../../common/storage/create.ts';
import { answeredWith, type Storage } from '../../../common/storage/storage.ts';
import { DISTRIBUTIONS } from '../../elasticsearch/engines.ts';
import { startLocalNode, type LocalNode } from '../../elasticsearch/local-node.ts';
import { compareLatency, deepCursor, deepRecord, type LatencyRow } from '../api/latency.ts';
import { loadDocuments } from '../api/load-documents.ts';
import { benchQueries } from '../api/queries.ts';
import { restAdmin, segmentBytes } from '../engines/rest-admin.ts';
import { writeLogs } from '../shipper/log-writer.ts';
import { waitForCountOf } from './delivery.ts';
import { atExit, cpuSeconds, start, stop } from './processes.ts';
import { summarizeBy, type Summary } from './stats.ts';

const root = new URL('../../../', import.meta.url).pathname;
/** Also how long the first line may take: a shipper starting on a busy machine takes seconds. */
const STALL_MS = 60_000;
const PER_100K = 100_000;
/** The second node starts right after the first stopped, on a machine that may be busy: more than a test's wait. */
const NODE_READY_TIMEOUT_MS = 600_000;

export class EngineShipError extends ProxyAccessLogError {
  readonly code = 'BENCH_ENGINE_SHIP_INCOMPLETE';
}

export interface EngineShipRun {
  lines_per_s: number;
  seconds: number;
  /** CPU seconds of the engine's process tree during the run. */
  engine_cpu_s: number;
  /** CPU seconds of the shipper. */
  shipper_cpu_s: number;
}

export interface EngineResult {
  engine: Engine;
  name: string;
  version: string;
  ship: {
    runs: EngineShipRun[];
    lines_per_s: Summary;
    engine_cpu_s_per_100k: Summary;
    shipper_cpu_s_per_100k: Summary;
    /** Segment bytes per document after a force-merge of the last timed run's indices. */
    store_bytes_per_doc: number;
  };
  load: {
    docs: number;
    /** Loading with refreshes off, then the force-merge. */
    seconds: number;
    store_bytes_per_doc: number;
  };
  queries: LatencyRow[];
  /** Start to stop of this engine's node. */
  seconds: number;
}

export interface EnginesResult {
  lines: number;
  log_bytes: number;
  rounds: number;
  docs: number;
  runs: number;
  engines: EngineResult[];
}

export interface EnginesSuiteOptions {
  dir: string;
  lines: number;
  rounds: number;
  docs: number;
  runs: number;
  log: (line: string) => void;
}

/** Searchable documents; 0 while a new index's shard is not allocated yet (503). */
async function searchable(storage: Storage, prefix: string): Promise<number> {
  try {
    return await storage.count(indexPattern(prefix));
  } catch (error) {
    if (answeredWith(error, 503)) return 0;
    throw error;
  }
}

async function dropIndices(storage: Storage, prefix: string): Promise<void> {
  await storage.deleteIndices(await storage.resolveIndices([indexPattern(prefix)]));
}

/** One shipper run over the whole backlog into fresh indices; the indices are left for the caller. */
async function ship(node: LocalNode, storage: Storage, options: EnginesSuiteOptions, logs: string, prefix: string): Promise<EngineShipRun> {
  const engineBefore = cpuSeconds(node.pid);
  const began = performance.now();
  const shipper = await start(
    'shipper',
    process.execPath,
    [join(root, 'shipper/main.ts'), '--logs', logs, '--state', join(options.dir, prefix), '--index-prefix', prefix, '--elasticsearch', node.url],
    { cwd: root, env: { ...process.env, ELASTICSEARCH_ENGINE: storage.engine }, probe: async () => true },
  );
  const exited = () => shipper.child.exitCode !== null || shipper.child.signalCode !== null;
  const { count, at: reached } = await waitForCountOf(() => searchable(storage, prefix), options.lines, { stallMs: STALL_MS, onProgress: exited });
  if (count < options.lines) {
    await stop(shipper.child);
    const why = exited() ? `the shipper exited (${shipper.child.exitCode ?? shipper.child.signalCode})` : `none more for ${STALL_MS / 1000} s`;
    throw new EngineShipError(`${storage.engine}: ${count} of ${options.lines} lines searchable, ${why}; the shipper's last output:\n${shipper.output().slice(-3000)}`);
  }
  const engineCpu = cpuSeconds(node.pid) - engineBefore;
  const shipperCpu = cpuSeconds(shipper.pid);
  await stop(shipper.child);
  const seconds = (reached - began) / 1000;
  return { lines_per_s: options.lines / seconds, seconds, engine_cpu_s: engineCpu, shipper_cpu_s: shipperCpu };
}

async function measureEngine(engine: Engine, options: EnginesSuiteOptions, logs: string): Promise<EngineResult> {
  const began = performance.now();
  const distribution = DISTRIBUTIONS[engine];
  const say = (line: string) => options.log(`${engine}: ${line}`);
  const node = await startLocalNode({ engine, readyTimeoutMs: NODE_READY_TIMEOUT_MS, log: say });
  atExit(() => node.stop());
  const storage = createStorage({ engine, url: node.url, request_timeout_ms: 600_000 });
  try {
    const tag = Date.now().toString(36);
    const warmUp = await ship(node, storage, options, logs, `bench-engine-warm-${tag}`);
    say(`warm-up: ${warmUp.lines_per_s.toFixed(0)} lines/s`);
    await dropIndices(storage, `bench-engine-warm-${tag}`);
    const runs: EngineShipRun[] = [];
    let shippedBytesPerDoc = NaN;
    for (let round = 0; round < options.rounds; round++) {
      const prefix = `bench-engine-r${round}-${tag}`;
      const run = await ship(node, storage, options, logs, prefix);
      runs.push(run);
      say(`round ${round + 1}/${options.rounds}: ${run.lines_per_s.toFixed(0)} lines/s, engine CPU ${run.engine_cpu_s.toFixed(1)} s, shipper CPU ${run.shipper_cpu_s.toFixed(1)} s`);
      if (round === options.rounds - 1) {
        await restAdmin(node.url).forceMerge(indexPattern(prefix));
        shippedBytesPerDoc = (await segmentBytes(node.url, indexPattern(prefix))) / options.lines;
      }
      await dropIndices(storage, prefix);
    }

    const prefix = `bench-engine-api-${tag}`;
    const now = Date.now();
    say(`loading ${options.docs.toLocaleString('en')} documents`);
    const loadSeconds = await loadDocuments(storage, restAdmin(node.url), prefix, options.docs, now);
    const loadedBytesPerDoc = (await segmentBytes(node.url, indexPattern(prefix))) / options.docs;
    say(`loaded and force-merged in ${loadSeconds.toFixed(0)} s; ${loadedBytesPerDoc.toFixed(0)} bytes per document`);
    const deep = deepRecord(options.docs);
    const queries = benchQueries(now, await deepCursor(storage, prefix, deep), deep);
    const rows = await compareLatency({ storage, prefix, queries, runs: options.runs, log: say });
    return {
      engine,
      name: distribution.name,
      version: distribution.version,
      ship: {
        runs,
        lines_per_s: summarizeBy(runs, (run) => run.lines_per_s),
        engine_cpu_s_per_100k: summarizeBy(runs, (run) => (run.engine_cpu_s / options.lines) * PER_100K),
        shipper_cpu_s_per_100k: summarizeBy(runs, (run) => (run.shipper_cpu_s / options.lines) * PER_100K),
        store_bytes_per_doc: shippedBytesPerDoc,
      },
      load: { docs: options.docs, seconds: loadSeconds, store_bytes_per_doc: loadedBytesPerDoc },
      queries: rows,
      seconds: (performance.now() - began) / 1000,
    };
  } finally {
    await storage.close();
    await node.stop();
  }
}

export async function runEnginesSuite(options: EnginesSuiteOptions): Promise<EnginesResult> {
  await mkdir(options.dir, { recursive: true });
  const logs = join(options.dir, 'logs');
  const written = await writeLogs(logs, options.lines, 100_000);
  options.log(`wrote ${options.lines} lines (${(written.bytes / 2 ** 20).toFixed(0)} MiB) in ${written.files} files`);
  const engines: EngineResult[] = [];
  // One at a time: the other engine's node is stopped before the next starts.
  for (const engine of ENGINES) engines.push(await measureEngine(engine, options, logs));
  return { lines: options.lines, log_bytes: written.bytes, rounds: options.rounds, docs: options.docs, runs: options.runs, engines };
}
