// `npm run bench:shipper [-- --lines N]`: how fast the shipper indexes a backlog of N lines
// (default 1,000,000), from its start to the last document being searchable, against the ceiling
// of a raw `_bulk` loader sending the same documents, prepared beforehand, into the same node in
// the same run; and the shipper's peak RSS. Uses ELASTICSEARCH_URL when set, else a local node.
// `--rounds R` (default 2) repeats both, alternating which goes first.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Client } from '@elastic/elasticsearch';
import { connectionFromEnv, createElasticsearchClient } from '../../common/elasticsearch-connection.ts';
import { installIndexTemplate } from '../../common/index-lifecycle.ts';
import { ElasticsearchStorage } from '../../common/storage/elasticsearch.ts';
import { indexPattern, indexTemplateName } from '../../common/proxy-event-document.ts';
import { startLocalNode, type LocalNode } from '../elasticsearch/local-node.ts';
import { writeLogs } from './shipper/log-writer.ts';
import { prepareBulkBodies, sendBodies } from './shipper/raw-loader.ts';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '1000000' },
    'lines-per-file': { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '2' },
  },
});
const lines = Number(values.lines);
const rounds = Number(values.rounds);
const linesPerFile = Number(values['lines-per-file']);
const BATCH_LINES = 5_000;

const say = (text: string) => process.stderr.write(`[bench:shipper] ${text}\n`);

async function searchable(client: Client, prefix: string, expected: number, started: number): Promise<number> {
  for (;;) {
    // A shard being created answers 503 for a moment: keep asking.
    const count = await client
      .count({ index: indexPattern(prefix), allow_no_indices: true, ignore_unavailable: true })
      .then((response) => response.count, () => 0);
    if (count >= expected) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Peak resident set size of a process, in MiB (Linux). */
function peakRssMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : NaN;
}

/** CPU seconds (user + system) a process has used so far (Linux, 100 ticks per second). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

let node: LocalNode | undefined;
let connection = connectionFromEnv();
if (!connection) {
  node = await startLocalNode({ log: say });
  connection = { url: node.url, request_timeout_ms: 60_000 };
}
const client = createElasticsearchClient(connection, { requestTimeout: 120_000 });
const work = await mkdtemp(join(tmpdir(), 'bench-shipper-'));
const logs = join(work, 'logs');
const run = Date.now().toString(36);
const prefixes: string[] = [];
let stopShipper = async () => {};

interface ShipperResult {
  ms: number;
  rssMiB: number;
  cpuSeconds: number;
}

/** The shipper as operators run it, with its default batch bounds, on the whole backlog. */
async function timeShipper(round: number): Promise<ShipperResult> {
  const prefix = `bench-shipper-${run}-${round}`;
  prefixes.push(prefix);
  const env = { ...process.env, ELASTICSEARCH_URL: connection!.url };
  const started = performance.now();
  const child = spawn(process.execPath, ['shipper/main.ts', '--logs', logs, '--state', join(work, `state-${round}`), '--index-prefix', prefix], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  stopShipper = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const ms = await searchable(client, prefix, lines, started);
  const result = { ms, rssMiB: peakRssMiB(child.pid!), cpuSeconds: cpuSeconds(child.pid!) };
  await stopShipper();
  say(`round ${round}: shipper, ${lines} searchable after ${(ms / 1000).toFixed(1)} s`);
  return result;
}

/** The ceiling: same documents, same batch size, bodies built before the clock starts. */
async function timeRaw(round: number): Promise<number> {
  const prefix = `bench-raw-${run}-${round}`;
  prefixes.push(prefix);
  await installIndexTemplate(new ElasticsearchStorage(client), prefix);
  const bodies = await prepareBulkBodies(logs, prefix, BATCH_LINES);
  const started = performance.now();
  await sendBodies(client, bodies);
  const ms = await searchable(client, prefix, lines, started);
  say(`round ${round}: raw _bulk, ${lines} searchable after ${(ms / 1000).toFixed(1)} s`);
  return ms;
}

async function dropIndices(): Promise<void> {
  for (const prefix of prefixes.splice(0)) {
    await client.indices.delete({ index: indexPattern(prefix), ignore_unavailable: true, allow_no_indices: true }).catch(() => {});
    await client.indices.deleteIndexTemplate({ name: indexTemplateName(prefix) }, { ignore: [404] }).catch(() => {});
  }
}

try {
  const written = await writeLogs(logs, lines, linesPerFile);
  say(`wrote ${lines} lines (${(written.bytes / 2 ** 20).toFixed(0)} MiB) in ${written.files} files`);
  // Alternating which goes first cancels out a drift in the machine's load or a warming JVM.
  let shipperMs = 0;
  let rawMs = 0;
  let peakRss = 0;
  let cpu = 0;
  for (let round = 0; round < rounds; round++) {
    const shipperFirst = round % 2 === 0;
    if (!shipperFirst) rawMs += await timeRaw(round);
    const shipper = await timeShipper(round);
    shipperMs += shipper.ms;
    peakRss = Math.max(peakRss, shipper.rssMiB);
    cpu += shipper.cpuSeconds;
    if (shipperFirst) rawMs += await timeRaw(round);
    await dropIndices();
  }
  const shipperRate = Math.round((lines * rounds) / (shipperMs / 1000));
  const rawRate = Math.round((lines * rounds) / (rawMs / 1000));
  console.log(
    JSON.stringify(
      {
        lines,
        rounds,
        shipper_lines_per_second: shipperRate,
        raw_bulk_lines_per_second: rawRate,
        ratio: Number((shipperRate / rawRate).toFixed(2)),
        shipper_peak_rss_mib: peakRss,
        shipper_cpu_seconds_per_round: Number((cpu / rounds).toFixed(1)),
        shipper_wall_seconds_per_round: Number((shipperMs / rounds / 1000).toFixed(1)),
        batch_lines: BATCH_LINES,
      },
      null,
      2,
    ),
  );
} finally {
  await stopShipper();
  await dropIndices();
  await client.close();
  await rm(work, { recursive: true, force: true });
  await node?.stop();
}
