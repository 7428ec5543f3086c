// The shipper comparison: the same N-line backlog (access.<N>.log files written once) indexed into
// the same Elasticsearch node by this shipper, by rsyslog (imfile + omelasticsearch) and by a raw
// `_bulk` loader of documents built before the clock starts (the ceiling, ops/bench/shipper/).
// This shipper runs in both geo modes: geoip-lite's bundled data, and a MaxMind DB file of a real
// City database's size given as `geo.database_file` (ops/bench/shipper/geo-database.ts); each
// reports its peak RSS.
// The node is first warmed until its rate is stable (ops/bench/shipper/warm-up.ts). Each contestant
// is run `rounds` times, the order reversed every round, from its start to the last line
// searchable, and reported by its median with min and max; then each log shipper is SIGKILLed half-way through a run, restarted on its own state, and what
// landed is checked id by id (duplicates and missing lines).

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { installIndexTemplate } from '../../../common/index-lifecycle.ts';
import { SHIPPER_NODE_FLAGS } from '../../../shipper/node-flags.ts';
import { ElasticsearchStorage } from '../../../common/storage/elasticsearch.ts';
import { indexPattern } from '../../../common/proxy-event-document.ts';
import { writeLogs } from '../shipper/log-writer.ts';
import { writeGeoDatabase } from '../shipper/geo-database.ts';
import { prepareBulkBodies, RAW_BULKS_IN_FLIGHT, sendBodies } from '../shipper/raw-loader.ts';
import { warmUntilStable, type WarmUp } from '../shipper/warm-up.ts';
import { checkDelivery, dropIndices, waitForCount, type Delivery } from './delivery.ts';
import { cpuSeconds, rssMiB, start, stop, type Started } from './processes.ts';
import { startRsyslog } from './rsyslog.ts';
import { summarizeBy, type Summary } from './stats.ts';

const root = new URL('../../../', import.meta.url).pathname;
const BATCH_LINES = 5_000;
const STALL_MS = 20_000;

export const SHIPPER = 'this shipper';
export const SHIPPER_MMDB = 'this shipper, geo.database_file (MMDB)';
export const RSYSLOG = 'rsyslog (imfile + omelasticsearch)';
export const RAW = 'raw _bulk loader (ceiling)';
type Contestant = typeof SHIPPER | typeof SHIPPER_MMDB | typeof RSYSLOG | typeof RAW;
type LogShipper = Exclude<Contestant, typeof RAW>;

export interface ShipRun {
  lines_per_s: number;
  seconds: number;
  delivered: number;
  /** CPU seconds of the contestant's process (the raw loader: this benchmark process). */
  cpu_s: number;
  peak_rss_mib: number;
  /** CPU seconds Elasticsearch spent during the run. */
  es_cpu_s: number;
  /** Primary store size per document right after the run (segments not force-merged). */
  store_bytes_per_doc: number;
}

export interface ShipRow {
  contestant: Contestant;
  runs: ShipRun[];
  lines_per_s: Summary;
  cpu_s: Summary;
  peak_rss_mib: Summary;
  es_cpu_s: Summary;
  store_bytes_per_doc: Summary;
}

export interface KillCheck {
  contestant: Contestant;
  killed_at: number;
  delivery: Delivery;
}

export interface ShipperSuiteResult {
  lines: number;
  rounds: number;
  log_bytes: number;
  /** The warm-up loads' rates before anything was timed (absent in results of runs before it). */
  warm_up?: WarmUp;
  /** Bulk requests the raw loader keeps out at once (the shipper's default `batch.max_in_flight`). */
  raw_in_flight?: number;
  rows: ShipRow[];
  kill: KillCheck[];
}

export interface ShipperSuiteOptions {
  dir: string;
  client: Client;
  esUrl: string;
  esPid: number;
  lines: number;
  rounds: number;
  log: (line: string) => void;
}

/** The shipper's configuration file naming the MaxMind DB file, beside it in the suite's folder. */
const geoConfig = (options: ShipperSuiteOptions) => join(options.dir, 'geo-database.json');

async function startContestant(contestant: LogShipper, options: ShipperSuiteOptions, logs: string, state: string, prefix: string): Promise<Started> {
  if (contestant === RSYSLOG) return await startRsyslog(state, { logs, port: Number(new URL(options.esUrl).port), prefix });
  const args = [...SHIPPER_NODE_FLAGS, join(root, 'shipper/main.ts'), '--logs', logs, '--state', state, '--index-prefix', prefix, '--elasticsearch', options.esUrl];
  if (contestant === SHIPPER_MMDB) args.push('--config', geoConfig(options));
  return await start('shipper', process.execPath, args, { cwd: root, probe: async () => true });
}

async function timedRun(contestant: Contestant, options: ShipperSuiteOptions, logs: string, tag: string): Promise<ShipRun> {
  const { client, lines } = options;
  const prefix = `bench-${tag}`;
  // rsyslog writes into whatever mapping exists; the shipper installs the template itself.
  if (contestant === RSYSLOG || contestant === RAW) await installIndexTemplate(new ElasticsearchStorage(client), prefix);
  const bodies = contestant === RAW ? await prepareBulkBodies(logs, prefix, BATCH_LINES) : [];
  const esBefore = cpuSeconds(options.esPid);
  const ownBefore = process.cpuUsage();
  const began = performance.now();
  let child: Started | undefined;
  if (contestant === RAW) await sendBodies(client, bodies);
  else child = await startContestant(contestant, options, logs, join(options.dir, tag), prefix);
  const reached = await waitForCount(client, prefix, lines, { stallMs: STALL_MS });
  const cpu = child ? cpuSeconds(child.pid) : (() => {
    const used = process.cpuUsage(ownBefore);
    return (used.user + used.system) / 1e6;
  })();
  const peak = child ? rssMiB(child.pid, 'VmHWM') : NaN;
  const esCpu = cpuSeconds(options.esPid) - esBefore;
  if (child) await stop(child.child);
  const stats = await client.indices.stats({ index: indexPattern(prefix), metric: ['store', 'docs'] });
  const storeBytes = stats._all.primaries?.store?.size_in_bytes ?? NaN;
  const docs = stats._all.primaries?.docs?.count ?? NaN;
  await dropIndices(client, prefix);
  const seconds = (reached.at - began) / 1000;
  return {
    lines_per_s: reached.count / seconds,
    seconds,
    delivered: reached.count,
    cpu_s: cpu,
    peak_rss_mib: peak,
    es_cpu_s: esCpu,
    store_bytes_per_doc: storeBytes / docs,
  };
}

async function killRun(contestant: typeof SHIPPER | typeof RSYSLOG, options: ShipperSuiteOptions, logs: string, tag: string): Promise<KillCheck> {
  const { client, lines } = options;
  const prefix = `bench-${tag}`;
  const state = join(options.dir, tag);
  if (contestant === RSYSLOG) await installIndexTemplate(new ElasticsearchStorage(client), prefix);
  const first = await startContestant(contestant, options, logs, state, prefix);
  const half = await waitForCount(client, prefix, lines, { stallMs: STALL_MS, onProgress: (count) => count >= lines / 2 });
  await stop(first.child, 'SIGKILL');
  options.log(`${contestant}: SIGKILL at ${half.count} documents searchable; restarting on the same state`);
  const second = await startContestant(contestant, options, logs, state, prefix);
  await waitForCount(client, prefix, lines, { stallMs: STALL_MS });
  // Then until nothing more arrives: a peer that re-sends lines overshoots the count.
  await waitForCount(client, prefix, Number.MAX_SAFE_INTEGER, { stallMs: 5_000 });
  await stop(second.child);
  const delivery = await checkDelivery(client, prefix, lines);
  await dropIndices(client, prefix);
  return { contestant, killed_at: half.count, delivery };
}

export async function runShipperSuite(options: ShipperSuiteOptions): Promise<ShipperSuiteResult> {
  await mkdir(options.dir, { recursive: true });
  const logs = join(options.dir, 'logs');
  const written = await writeLogs(logs, options.lines, 100_000);
  options.log(`wrote ${options.lines} lines (${(written.bytes / 2 ** 20).toFixed(0)} MiB) in ${written.files} files`);
  await writeGeoDatabase(join(options.dir, 'geo-database.mmdb'));
  await writeFile(geoConfig(options), JSON.stringify({ geo: { database_file: 'geo-database.mmdb' } }));
  const warmUp = await warmUntilStable(options.client, options.dir, BATCH_LINES, options.log);
  const contestants: Contestant[] = [SHIPPER, SHIPPER_MMDB, RSYSLOG, RAW];
  const runs = new Map<Contestant, ShipRun[]>(contestants.map((contestant) => [contestant, []]));
  for (let round = 0; round < options.rounds; round++) {
    for (const [index, contestant] of (round % 2 === 0 ? contestants : [...contestants].reverse()).entries()) {
      const run = await timedRun(contestant, options, logs, `r${round}-${index}-${Date.now().toString(36)}`);
      runs.get(contestant)!.push(run);
      options.log(
        `round ${round + 1}/${options.rounds} ${contestant.padEnd(36)} ${run.lines_per_s.toFixed(0).padStart(7)} lines/s  ${run.delivered} docs in ${run.seconds.toFixed(1)} s  ` +
          `CPU ${run.cpu_s.toFixed(1)} s  peak RSS ${run.peak_rss_mib.toFixed(0)} MiB  ES CPU ${run.es_cpu_s.toFixed(1)} s  ${run.store_bytes_per_doc.toFixed(0)} B/doc`,
      );
    }
  }
  const kill: KillCheck[] = [];
  for (const contestant of [SHIPPER, RSYSLOG] as const) {
    const check = await killRun(contestant, options, logs, `kill-${contestant === SHIPPER ? 'shipper' : 'rsyslog'}-${Date.now().toString(36)}`);
    kill.push(check);
    options.log(`${contestant}: ${JSON.stringify(check.delivery)}`);
  }
  const rows: ShipRow[] = contestants.map((contestant) => {
    const list = runs.get(contestant)!;
    return {
      contestant,
      runs: list,
      lines_per_s: summarizeBy(list, (run) => run.lines_per_s),
      cpu_s: summarizeBy(list, (run) => run.cpu_s),
      peak_rss_mib: summarizeBy(list, (run) => run.peak_rss_mib),
      es_cpu_s: summarizeBy(list, (run) => run.es_cpu_s),
      store_bytes_per_doc: summarizeBy(list, (run) => run.store_bytes_per_doc),
    };
  });
  return { lines: options.lines, rounds: options.rounds, log_bytes: written.bytes, warm_up: warmUp, raw_in_flight: RAW_BULKS_IN_FLIGHT, rows, kill };
}
