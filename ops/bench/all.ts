// `npm run bench`: this project beside the systems an operator would pick instead, on this
// machine, in one run: the shipper against rsyslog and a raw _bulk ceiling; 4 proxies + 4
// shippers into one node; the API against Elasticsearch directly; then, with that node stopped,
// Elasticsearch beside OpenSearch (each its own node in turn: shipping and the API's queries);
// then, with no engine running, the proxy against nginx, HAProxy, Caddy, http-proxy and
// @fastify/http-proxy. Writes ops/bench/report/results.json, ops/bench/report/chart.png and
// BENCHMARKS.md, and prints how long each part took.
//
// Options: --parts proxy,shipper,api,scale,engines (default all; the parts not run keep their
// figures from the last results.json, dated on the page) · --seconds N per proxy run (6) ·
// --rounds N (3) · --connections N (64) · --lines N shipper backlog (200000; 1000000 for the
// issue's figure) · --api-docs N (1000000) · --api-runs N (50) · --scale-seconds N (20) ·
// --engine-lines N and --engine-docs N, the engines part's backlog and documents (200000 and
// 1000000) · --quick (short runs, to check the setup) · --report-only (regenerate the page from
// results.json).
// Load goes to 127.0.0.1 only; every process started is stopped at the end and on Ctrl-C.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createElasticsearchClient } from '../../common/elasticsearch-connection.ts';
import type { Client } from '@elastic/elasticsearch';
import { startLocalNode, type LocalNode } from '../elasticsearch/local-node.ts';
import { runEnginesSuite } from './peers/engines-suite.ts';
import { runApiSuite } from './peers/api-suite.ts';
import { ensurePrerequisites } from './peers/prerequisites.ts';
import { atExit, stopEverything } from './peers/processes.ts';
import { runProxySuite } from './peers/proxy-suite.ts';
import { runScaleSuite } from './peers/scale-suite.ts';
import { runShipperSuite } from './peers/shipper-suite.ts';
import { renderChart } from './report/chart.ts';
import { chartPanels } from './report/figures.ts';
import { renderMarkdown } from './report/markdown.ts';
import { rewriteKeepingSections } from './report/sections.ts';
import type { BenchResults } from './report/results.ts';

const SCALE_MAX_LINES_PER_SHIPPER = 50_000;
/** The API part's full-scale document count; the page says so when a run used fewer. */
const API_FULL_SCALE_DOCS = 10_000_000;
const ALL_PARTS = ['proxy', 'shipper', 'api', 'scale', 'engines'];
/** The parts that share one Elasticsearch node. */
const NODE_PARTS = ['shipper', 'api', 'scale'];
const { values } = parseArgs({
  options: {
    parts: { type: 'string', default: ALL_PARTS.join(',') },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
    connections: { type: 'string', default: '64' },
    lines: { type: 'string' },
    'api-docs': { type: 'string' },
    'api-runs': { type: 'string' },
    'scale-seconds': { type: 'string' },
    'engine-lines': { type: 'string' },
    'engine-docs': { type: 'string' },
    quick: { type: 'boolean', default: false },
    'report-only': { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const parts = values.parts.split(',').map((part) => part.trim());
for (const part of parts) if (!ALL_PARTS.includes(part)) throw new Error(`--parts: unknown part "${part}" (known: ${ALL_PARTS.join(', ')})`);
const number = (value: string | undefined, fallback: number, name: string) => {
  const parsed = Number(value ?? fallback);
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name}: expected a positive integer, got "${value}"`);
  return parsed;
};
const options = {
  seconds: number(values.seconds, quick ? 2 : 6, 'seconds'),
  rounds: number(values.rounds, quick ? 1 : 3, 'rounds'),
  connections: number(values.connections, 64, 'connections'),
  lines: number(values.lines, quick ? 20_000 : 200_000, 'lines'),
  apiDocs: number(values['api-docs'], quick ? 60_000 : 1_000_000, 'api-docs'),
  apiRuns: number(values['api-runs'], quick ? 10 : 50, 'api-runs'),
  scaleSeconds: number(values['scale-seconds'], quick ? 5 : 20, 'scale-seconds'),
  engineLines: number(values['engine-lines'], quick ? 20_000 : 200_000, 'engine-lines'),
  engineDocs: number(values['engine-docs'], quick ? 60_000 : 1_000_000, 'engine-docs'),
};

const root = new URL('../../', import.meta.url).pathname;
const resultsFile = join(root, 'ops/bench/report/results.json');
const chartFile = join(root, 'ops/bench/report/chart.png');
const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const minutes = (seconds: number) => {
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2)} s`;
};

/** First line a version command prints (wrk -v prints its version and exits 1). */
function firstLine(command: string): string {
  const output = spawnSync('sh', ['-c', `${command} 2>&1`], { encoding: 'utf8' }).stdout.trim();
  return output.split('\n')[0] || 'not installed';
}

function writeReport(results: BenchResults): void {
  renderChart('proxy-access-log benchmarks', `${results.started.slice(0, 16).replace('T', ' ')} UTC, ${results.machine.cpus} cores, load ${results.machine.load_start.toFixed(1)}`, chartPanels(results), chartFile);
  // The sections of bench:api --concurrency and bench:cluster are theirs: kept as they are.
  const page = join(root, 'BENCHMARKS.md');
  rewriteKeepingSections(page, () => writeFileSync(page, renderMarkdown(results, 'ops/bench/report/chart.png')));
  say(`wrote BENCHMARKS.md, ${chartFile}`);
}

/** Proxy figures from before the nginx upstream (CPU s per 10k requests, no p99.9) cannot be shown beside the new ones. */
function staleProxy(results: BenchResults): boolean {
  return results.proxy?.rows.some((row) => row.cpu_us_per_request === undefined) ?? false;
}

/** The parts this run does not measure keep the last run's figures, each with the date it was measured. */
function carryOver(results: BenchResults): void {
  const previous = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as BenchResults) : undefined;
  for (const part of ALL_PARTS as (keyof BenchResults['carried'])[]) {
    if (parts.includes(part)) continue;
    if (previous?.[part] === undefined || (part === 'proxy' && staleProxy(previous))) {
      results.skipped[part] = 'not selected (--parts)';
      continue;
    }
    (results as unknown as Record<string, unknown>)[part] = previous[part];
    results.carried[part] = previous.carried?.[part] ?? previous.started;
  }
  if (previous === undefined || Object.keys(results.carried).length === 0) return;
  results.versions = { ...previous.versions, ...results.versions };
  if (results.machine.elasticsearch === 'not used') results.machine.elasticsearch = previous.machine.elasticsearch;
}

if (values['report-only']) {
  const saved = JSON.parse(readFileSync(resultsFile, 'utf8')) as BenchResults;
  saved.carried ??= {};
  if (staleProxy(saved)) {
    delete saved.proxy;
    saved.skipped.proxy = 'measured before the nginx upstream; `npm run bench -- --parts proxy` measures it again';
  }
  writeReport(saved);
  process.exit(0);
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    say(`${signal}: stopping everything`);
    stopEverything().finally(() => process.exit(130));
  });
}

ensurePrerequisites([...parts, 'report'], say);
const started = new Date();
const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, '');
say(`load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}; ${JSON.stringify(options)}`);
const dir = await mkdtemp(join(tmpdir(), 'bench-all-'));
atExit(() => rm(dir, { recursive: true, force: true }));

const results: BenchResults = {
  started: started.toISOString(),
  finished: '',
  command,
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    memory_gib: totalmem() / 2 ** 30,
    os: /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux',
    kernel: release(),
    node: process.versions.node,
    elasticsearch: 'not used',
    load_start: loadavg()[0]!,
    load_end: NaN,
  },
  versions: {},
  skipped: {},
  carried: {},
  timings: {},
};
carryOver(results);
/** After each part, so that an interrupted run still leaves what it measured (--report-only renders it). */
function save(): void {
  results.finished = new Date().toISOString();
  results.machine.load_end = loadavg()[0]!;
  writeFileSync(resultsFile, JSON.stringify(results, null, 2) + '\n');
}
/** Runs one step of the run, records how long it took (the total must fit a quiet window) and saves. */
async function timed(step: string, run: () => Promise<void>): Promise<void> {
  const began = performance.now();
  await run();
  results.timings![step] = (performance.now() - began) / 1000;
  save();
}

try {
  if (parts.some((part) => NODE_PARTS.includes(part))) {
    let node!: LocalNode;
    let client!: Client;
    await timed('Elasticsearch node start', async () => {
      node = await startLocalNode({ log: say });
      atExit(() => node.stop());
      client = createElasticsearchClient({ url: node.url, request_timeout_ms: 120_000 }, { requestTimeout: 120_000 });
      atExit(() => client.close());
      const info = await client.nodes.info({ filter_path: 'nodes.*.version' });
      results.machine.elasticsearch = `${Object.values(info.nodes)[0]?.version} (minimal distribution from Maven Central, single node, 1 GiB heap, unpinned)`;
    });
    if (parts.includes('shipper')) {
      await timed('shipper', async () => {
        say(`shipper: this shipper vs rsyslog vs raw _bulk, ${options.lines} lines`);
        results.versions.rsyslog = firstLine('rsyslogd -v').replace(/\s+compiled with:$/, '');
        results.shipper = await runShipperSuite({ dir: join(dir, 'shipper'), client, esUrl: node.url, esPid: node.pid, lines: options.lines, rounds: options.rounds, log: say });
      });
    }
    if (parts.includes('scale')) {
      await timed('scale', async () => {
        say('scale: 4 proxies + 4 shippers into one node');
        results.scale = await runScaleSuite({
          dir: join(dir, 'scale'),
          client,
          esUrl: node.url,
          esPid: node.pid,
          seconds: options.scaleSeconds,
          // Its figure is how the rate grows with shippers: a quarter of the shipper part's backlog, at most 50,000 each, shows it.
          linesPerShipper: Math.min(SCALE_MAX_LINES_PER_SHIPPER, Math.max(10_000, Math.round(options.lines / 4))),
          log: say,
        });
      });
    }
    if (parts.includes('api')) {
      await timed('api', async () => {
        say(`api: ops/bench/api.ts --documents ${options.apiDocs} --runs ${options.apiRuns}`);
        if (options.apiDocs < API_FULL_SCALE_DOCS) {
          results.skipped['API at 10,000,000 documents'] =
            'not run by default: indexing 10M documents into this 2-core node takes longer than the whole run; `npm run bench -- --parts api --api-docs 10000000` runs it';
        }
        results.api = await runApiSuite({ esUrl: node.url, docs: options.apiDocs, runs: options.apiRuns, log: say });
      });
    }
    // Nothing of Elasticsearch may run beside the proxies under test, nor beside the engines part's own nodes.
    await client.close();
    await node.stop();
  }
  if (parts.includes('engines')) {
    await timed('engines', async () => {
      say(`engines: Elasticsearch, then OpenSearch: ${options.engineLines} lines shipped, ${options.engineDocs} documents queried`);
      results.engines = await runEnginesSuite({ dir: join(dir, 'engines'), lines: options.engineLines, rounds: options.rounds, docs: options.engineDocs, runs: options.apiRuns, log: say });
    });
  }
  if (parts.includes('proxy')) {
    await timed('proxy', async () => {
      say('proxy: this proxy vs nginx, HAProxy, Caddy, the minimal undici proxy, http-proxy, @fastify/http-proxy (nginx upstream)');
      results.proxy = await runProxySuite({ dir: join(dir, 'proxy'), seconds: options.seconds, rounds: options.rounds, connections: options.connections, log: say });
      Object.assign(results.versions, results.proxy.versions);
      results.versions.wrk = firstLine('wrk -v');
    });
  }
} finally {
  if (!interrupted) await stopEverything();
}
save();
writeReport(results);
const total = (Date.parse(results.finished) - started.getTime()) / 1000;
for (const [step, seconds] of Object.entries(results.timings!)) say(`${step.padEnd(26)} ${minutes(seconds)}`);
say(`${'whole run'.padEnd(26)} ${minutes(total)}`);
