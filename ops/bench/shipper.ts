// `npm run bench:shipper [-- --lines N]`: how fast the shipper indexes a backlog of N lines
// (default 1,000,000), from its start to the last document being searchable, against the ceiling
// of a raw `_bulk` loader sending the same documents, prepared beforehand, into the same node in
// the same run; and the shipper's peak RSS. Uses ELASTICSEARCH_URL when set, else a local node.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Client } from '@elastic/elasticsearch';
import { connectionFromEnv, createElasticsearchClient } from '../../common/elasticsearch-connection.ts';
import { installIndexTemplate } from '../../common/index-lifecycle.ts';
import { indexPattern, indexTemplateName } from '../../common/proxy-event-document.ts';
import { startLocalNode, type LocalNode } from '../elasticsearch/local-node.ts';
import { writeLogs } from './shipper/log-writer.ts';
import { prepareBulkBodies, sendBodies } from './shipper/raw-loader.ts';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '1000000' }, 'lines-per-file': { type: 'string', default: '100000' } } });
const lines = Number(values.lines);
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
  connection = { url: node.url, requestTimeoutMs: 60_000 };
}
const client = createElasticsearchClient(connection, { requestTimeout: 120_000 });
const work = await mkdtemp(join(tmpdir(), 'bench-shipper-'));
const run = Date.now().toString(36);
const shipperPrefix = `bench-shipper-${run}`;
const rawPrefix = `bench-raw-${run}`;
let stopShipper = async () => {};
try {
  const logs = join(work, 'logs');
  const written = await writeLogs(logs, lines, linesPerFile);
  say(`wrote ${lines} lines (${(written.bytes / 2 ** 20).toFixed(0)} MiB) in ${written.files} files`);

  // The shipper, as operators run it, with its default batch bounds.
  const env = { ...process.env, ELASTICSEARCH_URL: connection.url };
  const started = performance.now();
  const child = spawn(process.execPath, ['shipper/main.ts', '--logs', logs, '--state', join(work, 'state'), '--index-prefix', shipperPrefix], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  stopShipper = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const shipperMs = await searchable(client, shipperPrefix, lines, started);
  const shipperRss = peakRssMiB(child.pid!);
  const shipperCpu = cpuSeconds(child.pid!);
  await stopShipper();
  say(`shipper: ${lines} searchable after ${(shipperMs / 1000).toFixed(1)} s`);

  // The ceiling: same documents, same batch size, bodies built before the clock starts.
  await installIndexTemplate(client, rawPrefix);
  const bodies = await prepareBulkBodies(logs, rawPrefix, BATCH_LINES);
  const rawStarted = performance.now();
  await sendBodies(client, bodies);
  const rawMs = await searchable(client, rawPrefix, lines, rawStarted);
  say(`raw _bulk: ${lines} searchable after ${(rawMs / 1000).toFixed(1)} s`);

  const shipperRate = Math.round(lines / (shipperMs / 1000));
  const rawRate = Math.round(lines / (rawMs / 1000));
  console.log(
    JSON.stringify(
      {
        lines,
        shipper_lines_per_second: shipperRate,
        raw_bulk_lines_per_second: rawRate,
        ratio: Number((shipperRate / rawRate).toFixed(2)),
        shipper_peak_rss_mib: shipperRss,
        shipper_cpu_seconds: shipperCpu,
        shipper_wall_seconds: Number((shipperMs / 1000).toFixed(1)),
        batch_lines: BATCH_LINES,
      },
      null,
      2,
    ),
  );
} finally {
  await stopShipper();
  for (const prefix of [shipperPrefix, rawPrefix]) {
    await client.indices.delete({ index: indexPattern(prefix), ignore_unavailable: true, allow_no_indices: true }).catch(() => {});
    await client.indices.deleteIndexTemplate({ name: indexTemplateName(prefix) }, { ignore: [404] }).catch(() => {});
  }
  await client.close();
  await rm(work, { recursive: true, force: true });
  await node?.stop();
}
