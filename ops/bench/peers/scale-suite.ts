// Scale on one Elasticsearch node, bounded in time:
// 1. live: 4 proxies (access log on), each loaded by its own wrk, each followed by its own shipper,
//    for `seconds`; requests served, documents searchable when the load stops, and how long the
//    shippers take to catch up after that;
// 2. ingest vs shipper count: 1, 2 and 4 shippers started together, each on its own backlog of
//    `linesPerShipper` lines, all into one index prefix; aggregate lines/s until every line is
//    searchable. Where adding shippers stops adding lines/s, Elasticsearch (or this machine's
//    two cores, which everything shares here) is the limit.
// Nothing is pinned: this is the whole machine's capacity, not one core's.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { writeLogs } from '../shipper/log-writer.ts';
import { countDocuments, dropIndices, waitForCount } from './delivery.ts';
import { cpuSeconds, start, stop, type Started } from './processes.ts';
import { OPEN_HOST, thisProxy } from './this-proxy.ts';
import { runWrk } from './wrk.ts';

const root = new URL('../../../', import.meta.url).pathname;
const upstreamScript = new URL('../proxy/upstream.ts', import.meta.url).pathname;
const PROXIES = 4;

export interface LiveResult {
  proxies: number;
  seconds: number;
  requests: number;
  rps: number;
  searchable_when_load_stopped: number;
  catch_up_seconds: number;
  delivered: number;
}

export interface IngestStep {
  shippers: number;
  lines: number;
  seconds: number;
  lines_per_s: number;
  es_cpu_s: number;
}

export interface ScaleResult {
  live: LiveResult;
  ingest: IngestStep[];
  lines_per_shipper: number;
}

export interface ScaleOptions {
  dir: string;
  client: Client;
  esUrl: string;
  esPid: number;
  seconds: number;
  linesPerShipper: number;
  log: (line: string) => void;
}

/** Timed runs count from the process start (as bench:shipper does); the live run waits for it to be up. */
function startShipper(options: ScaleOptions, logs: string, state: string, prefix: string, waitUntilUp = false): Promise<Started> {
  const args = [join(root, 'shipper/main.ts'), '--logs', logs, '--state', state, '--index-prefix', prefix, '--elasticsearch', options.esUrl];
  return start('shipper', process.execPath, args, { cwd: root, ...(waitUntilUp ? { ready: /"msg":"shipper started"/ } : { probe: async () => true }) });
}

async function live(options: ScaleOptions): Promise<LiveResult> {
  const { client } = options;
  const prefix = `bench-live-${Date.now().toString(36)}`;
  const upstream = await start('upstream', process.execPath, [upstreamScript], { ready: /^(\d+)\n/ });
  const upstreamPort = Number(upstream.match![1]);
  const proxies = [];
  const shippers: Started[] = [];
  for (let i = 0; i < PROXIES; i++) {
    const dir = join(options.dir, `live-${i}`);
    await mkdir(dir, { recursive: true });
    const proxy = await thisProxy(true).start(dir, upstreamPort);
    proxies.push(proxy);
    shippers.push(await startShipper(options, proxy.accessLog!, join(dir, 'state'), prefix, true));
  }
  const results = await Promise.all(
    proxies.map((proxy) => runWrk({ url: `${proxy.url}/bench/item`, headers: { Host: OPEN_HOST, 'User-Agent': 'wrk-bench/1' }, seconds: options.seconds, connections: 8 })),
  );
  const stopped = performance.now();
  const searchable = await countDocuments(client, prefix);
  // Every request is one line; requests in flight when wrk stopped are logged too (as 499s).
  await new Promise((resolve) => setTimeout(resolve, 500));
  const requests = results.reduce((sum, result) => sum + result.requests, 0);
  const done = await waitForCount(client, prefix, requests, { stallMs: 15_000 });
  for (const shipper of shippers) await stop(shipper.child);
  for (const proxy of proxies) process.kill(proxy.pid, 'SIGTERM');
  await stop(upstream.child);
  await dropIndices(client, prefix);
  return {
    proxies: PROXIES,
    seconds: options.seconds,
    requests,
    rps: results.reduce((sum, result) => sum + result.rps, 0),
    searchable_when_load_stopped: searchable,
    catch_up_seconds: (done.at - stopped) / 1000,
    delivered: done.count,
  };
}

async function ingest(options: ScaleOptions, backlogs: string[], shippers: number): Promise<IngestStep> {
  const prefix = `bench-scale-${shippers}-${Date.now().toString(36)}`;
  const lines = shippers * options.linesPerShipper;
  const esBefore = cpuSeconds(options.esPid);
  const began = performance.now();
  const children = await Promise.all(
    backlogs.slice(0, shippers).map((logs, i) => startShipper(options, logs, join(options.dir, `${prefix}-state-${i}`), prefix)),
  );
  const reached = await waitForCount(options.client, prefix, lines, { stallMs: 20_000 });
  const esCpu = cpuSeconds(options.esPid) - esBefore;
  for (const child of children) await stop(child.child);
  await dropIndices(options.client, prefix);
  const seconds = (reached.at - began) / 1000;
  return { shippers, lines: reached.count, seconds, lines_per_s: reached.count / seconds, es_cpu_s: esCpu };
}

export async function runScaleSuite(options: ScaleOptions): Promise<ScaleResult> {
  await mkdir(options.dir, { recursive: true });
  const liveResult = await live(options);
  options.log(
    `live: ${PROXIES} proxies + ${PROXIES} shippers, ${liveResult.rps.toFixed(0)} req/s for ${options.seconds} s; ` +
      `${liveResult.searchable_when_load_stopped}/${liveResult.requests} searchable when the load stopped, all ${liveResult.delivered} after ${liveResult.catch_up_seconds.toFixed(1)} s more`,
  );
  const backlogs: string[] = [];
  for (let i = 0; i < PROXIES; i++) {
    const logs = join(options.dir, `backlog-${i}`);
    await writeLogs(logs, options.linesPerShipper, 100_000);
    backlogs.push(logs);
  }
  const steps: IngestStep[] = [];
  for (const shippers of [1, 2, 4]) {
    const step = await ingest(options, backlogs, shippers);
    steps.push(step);
    options.log(`ingest: ${shippers} shipper(s), ${step.lines} lines in ${step.seconds.toFixed(1)} s = ${step.lines_per_s.toFixed(0)} lines/s (ES CPU ${step.es_cpu_s.toFixed(1)} s)`);
  }
  return { live: liveResult, ingest: steps, lines_per_shipper: options.linesPerShipper };
}
