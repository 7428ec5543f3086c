// BENCHMARKS.md from one run's results: machine, date and versions, the exact command, a table per
// part with every figure and ratio, the chart, and the hand-written notes (notes.md) on what the
// figures mean and what limits the parts that miss their targets.

import { existsSync, readFileSync } from 'node:fs';
import { SCENARIOS, THIS_OFF, THIS_ON, UNDICI_PEER, type ProxyRow, type Scenario } from '../peers/proxy-suite.ts';
import { RAW, SHIPPER, SHIPPER_MMDB } from '../peers/shipper-suite.ts';
import type { Summary } from '../peers/stats.ts';
import { oneCoreCapacity, proxyRatios, row, shipperRatios } from './figures.ts';
import type { BenchResults } from './results.ts';
import type { EnginesResult } from '../peers/engines-suite.ts';

const NOTES = new URL('notes.md', import.meta.url).pathname;

const n0 = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en') : '–');
const n2 = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : '–');
const pct = (summary: Summary) => (summary.runs.length > 1 ? `±${((summary.spread * 100) / 2).toFixed(0)}%` : '–');
const ratio = (value: number) => `${value.toFixed(2)}×`;
const verdict = (value: number, target: number) => (value >= target ? `**met** (${ratio(value)} ≥ ${target}×)` : `**missed** (${ratio(value)} < ${target}×)`);

function table(header: string[], rows: string[][], align: ('l' | 'r')[]): string {
  const lines = [`| ${header.join(' | ')} |`, `| ${align.map((a) => (a === 'r' ? '---:' : '---')).join(' | ')} |`];
  for (const cells of rows) lines.push(`| ${cells.join(' | ')} |`);
  return lines.join('\n');
}

/** The proxy's targets (issue: the proxy to the limit of its runtime on one core). */
const PROXY_TARGETS = { vsUndici: 1.3, vsCaddy: 1.5, logCost: 0.05, p99Ms: 15, largeVsNginx: 0.5 } as const;

/** The shipper's memory target: its peak RSS over the whole backlog, in each geo mode. */
const SHIPPER_PEAK_RSS_MIB = 300;

const atMost = (value: number, target: number, show: (value: number) => string) =>
  value <= target ? `**met** (${show(value)} ≤ ${show(target)})` : `**missed** (${show(value)} > ${show(target)})`;
const percent = (value: number) => `${(value * 100).toFixed(1)} %`;

function proxyTargets(results: BenchResults): string[][] {
  const proxy = results.proxy!;
  const small = proxyRatios(proxy, 'small');
  const large = proxyRatios(proxy, 'large');
  const ours = row(proxy, THIS_ON, 'small');
  const rows: string[][] = [];
  const title = SCENARIOS.small.title;
  if (small?.vsUndici) rows.push([`log on ≥ ${PROXY_TARGETS.vsUndici}× ${UNDICI_PEER}, ${title}`, verdict(small.vsUndici.rps, PROXY_TARGETS.vsUndici), verdict(small.vsUndici.capacity, PROXY_TARGETS.vsUndici)]);
  if (small?.vsCaddy) rows.push([`log on ≥ ${PROXY_TARGETS.vsCaddy}× Caddy, ${title}`, verdict(small.vsCaddy.rps, PROXY_TARGETS.vsCaddy), verdict(small.vsCaddy.capacity, PROXY_TARGETS.vsCaddy)]);
  const off = row(proxy, THIS_OFF, 'small');
  if (ours && off && small?.logCost !== undefined) {
    rows.push([`log cost ≤ ${percent(PROXY_TARGETS.logCost)}, ${title}`, atMost(off.rps.median / ours.rps.median - 1, PROXY_TARGETS.logCost, percent), atMost(small.logCost, PROXY_TARGETS.logCost, percent)]);
  }
  if (ours) rows.push([`log on p99 ≤ ${PROXY_TARGETS.p99Ms} ms at ${proxy.connections} connections, ${title}`, atMost(ours.p99_ms.median, PROXY_TARGETS.p99Ms, (ms) => `${n2(ms)} ms`), '']);
  if (large?.vsNginx) rows.push([`log on ≥ ${PROXY_TARGETS.largeVsNginx}× nginx, ${SCENARIOS.large.title}`, verdict(large.vsNginx.rps, PROXY_TARGETS.largeVsNginx), verdict(large.vsNginx.capacity, PROXY_TARGETS.largeVsNginx)]);
  return rows;
}

function targets(results: BenchResults): string {
  const rows = results.proxy ? proxyTargets(results) : [];
  const lines = rows.length
    ? [table(['target', 'measured req/s (median)', 'one core (from CPU per request)'], rows, ['l', 'l', 'l'])]
    : [];
  if (results.shipper) {
    const r = shipperRatios(results.shipper);
    const kill = results.shipper.kill;
    const shipRows: string[][] = [];
    if (r) {
      shipRows.push(['shipper ≥ 1.5× rsyslog lines/s', verdict(r.vsRsyslog, 1.5)]);
      shipRows.push(['shipper ≥ 0.9× raw _bulk ceiling', verdict(r.vsCeiling, 0.9)]);
    }
    for (const name of [SHIPPER, SHIPPER_MMDB]) {
      const peak = results.shipper.rows.find((item) => item.contestant === name)?.peak_rss_mib;
      if (peak) shipRows.push([`${name}: peak RSS ≤ ${SHIPPER_PEAK_RSS_MIB} MiB (highest of its runs)`, atMost(peak.max, SHIPPER_PEAK_RSS_MIB, (mib) => `${n0(mib)} MiB`)]);
    }
    for (const check of kill) {
      const d = check.delivery;
      shipRows.push([`${check.contestant}: exactly once after SIGKILL`, d.exactly_once ? '**yes**' : `**no**: ${n0(d.duplicates)} duplicates, ${n0(d.missing)} missing of ${n0(d.expected)}`]);
    }
    lines.push('', table(['target', 'result'], shipRows, ['l', 'l']));
  }
  return lines.join('\n');
}

function proxyTable(rows: ProxyRow[]): string {
  const ours = rows.find((item) => item.peer === THIS_ON);
  return table(
    ['proxy', 'req/s', 'spread', 'p50 ms', 'p99 ms', 'p99.9 ms', 'CPU µs / req', 'one core req/s', 'RSS MiB', 'load', 'errors', 'this proxy (log on) ÷ it'],
    rows.map((item) => [
      item.peer === THIS_ON ? `**${item.peer}**` : item.peer,
      n0(item.rps.median),
      pct(item.rps),
      n2(item.p50_ms.median),
      n2(item.p99_ms.median),
      n2(item.p999_ms.median),
      n0(item.cpu_us_per_request.median),
      n0(oneCoreCapacity(item)),
      n0(item.rss_mib.median),
      n2(item.load.median),
      String(item.errors),
      ours && item !== ours ? `${ratio(ours.rps.median / item.rps.median)} req/s, ${ratio(oneCoreCapacity(ours) / oneCoreCapacity(item))} one core` : '',
    ]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  );
}

function proxySection(results: BenchResults): string {
  const proxy = results.proxy!;
  const parts = [
    '## Proxy',
    '',
    `Load: wrk (${(results.versions.wrk ?? '').replace(/^wrk /, '').replace(/ Copyright.*$/, '')}), 1 thread, ${proxy.connections} keep-alive connections, ${proxy.seconds} s per run, ${proxy.rounds} runs per proxy and body size ` +
      '(rounds alternate the order), after a 2 s warm-up each. The proxy under test runs on CPU 0 (`taskset -c 0`); wrk and the upstream ' +
      '(Debian\'s nginx, one worker, no log, a fixed body from cached files: `ops/bench/peers/nginx-upstream.ts`) share CPU 1. Every proxy writes one JSON line per request to a file. ' +
      '"spread" is half the range of the runs around the median; p50/p99/p99.9 are wrk\'s (`ops/bench/peers/wrk-percentiles.lua`); "CPU µs / req" is the utime + stime of the proxy\'s process tree ' +
      '(`/proc/<pid>/stat`) over the run per request answered; "one core req/s" = 1,000,000 ÷ that, the rate one core could serve if ' +
      'the proxy were the only limit (nginx and HAProxy are still capped by the load core, wrk and the upstream: see "direct to upstream"); ' +
      '"load" is the 1-minute load average at the end of the run (the machine is shared).',
  ];
  for (const scenario of Object.keys(SCENARIOS) as Scenario[]) {
    const rows = proxy.rows.filter((item) => item.scenario === scenario);
    if (rows.length) parts.push('', `### ${SCENARIOS[scenario].title}`, '', proxyTable(rows));
  }
  const auth = row(proxy, THIS_ON, 'auth');
  const open = row(proxy, THIS_ON, 'small');
  if (auth && open) {
    parts.push('', `The authenticated path (session cookie checked on every request) costs ${n0(auth.cpu_us_per_request.median - open.cpu_us_per_request.median)} CPU µs per request more than the open one (${n0(auth.rps.median)} vs ${n0(open.rps.median)} req/s).`);
  }
  const logged = Object.entries(proxy.lines_per_request).map(([peer, value]) => `${peer} ${value.toFixed(3)}`);
  parts.push('', `Access-log lines written per request answered (1.000 = exactly one; the login and requests cut at the end of a run add a few): ${logged.join(', ')}.`);
  return parts.join('\n');
}

function shipperSection(results: BenchResults): string {
  const shipper = results.shipper!;
  const raw = shipper.rows.find((item) => item.contestant === RAW);
  const ship = shipper.rows.find((item) => item.contestant === SHIPPER);
  return [
    '## Shipper',
    '',
    `The same backlog of ${n0(shipper.lines)} lines (${(shipper.log_bytes / 2 ** 20).toFixed(0)} MiB in access.<N>.log files of 100,000 lines, written once) indexed into the same Elasticsearch node ` +
      `from the start of the process to the last document searchable; ${shipper.rounds} runs each, the order reversed every round; indices dropped between runs. ` +
      (shipper.warm_up
        ? `Before them, warm-up loads until two in a row were within 10% (${shipper.warm_up.rates.map(n0).join(', ')} lines/s${shipper.warm_up.stable ? '' : ', never stable'}); ` +
          `the raw loader keeps ${shipper.raw_in_flight} requests out, as the shipper does by default. `
        : '') +
      'CPU is the contestant\'s own process (the raw loader: the benchmark process, whose bodies were built before the clock started); ES CPU is what the node spent meanwhile; ' +
      'store B/doc is the primary store size per document right after the run (not force-merged). rsyslog\'s documents carry fewer fields (no geo, category or duration: see notes). ' +
      `This shipper runs in both geo modes: geoip-lite's bundled data, and "${SHIPPER_MMDB}": a MaxMind DB file of GeoLite2-City's size (written by the benchmark) given as \`geo.database_file\`; peak RSS is the kernel's high-water mark (VmHWM) of the process over its run.`,
    '',
    table(
      ['contestant', 'lines/s', 'spread', '÷ ceiling', 'CPU s', 'CPU s / 100k lines', 'peak RSS MiB', 'ES CPU s / 100k lines', 'store B/doc', 'this shipper ÷ it'],
      shipper.rows.map((item) => [
        item.contestant === SHIPPER || item.contestant === SHIPPER_MMDB ? `**${item.contestant}**` : item.contestant,
        n0(item.lines_per_s.median),
        pct(item.lines_per_s),
        raw ? n2(item.lines_per_s.median / raw.lines_per_s.median) : '',
        n2(item.cpu_s.median),
        n2((item.cpu_s.median / shipper.lines) * 100_000),
        n0(item.peak_rss_mib.median),
        n2((item.es_cpu_s.median / shipper.lines) * 100_000),
        n0(item.store_bytes_per_doc.median),
        ship && item !== ship && item.contestant !== SHIPPER_MMDB ? ratio(ship.lines_per_s.median / item.lines_per_s.median) : '',
      ]),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
    '',
    'Exactly once: each log shipper was SIGKILLed once half of the lines were searchable, restarted on its own state (checkpoint / imfile state), and left until nothing more arrived; then every `event.id` was counted with a composite aggregation.',
    '',
    table(
      ['contestant', 'killed at', 'documents', 'distinct ids', 'duplicates', 'missing', 'exactly once'],
      shipper.kill.map((check) => [
        check.contestant,
        n0(check.killed_at),
        n0(check.delivery.documents),
        n0(check.delivery.distinct),
        n0(check.delivery.duplicates),
        n0(check.delivery.missing),
        check.delivery.exactly_once ? 'yes' : '**no**',
      ]),
      ['l', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
  ].join('\n');
}

function scaleSection(results: BenchResults): string {
  const scale = results.scale!;
  const live = scale.live;
  const first = scale.ingest[0];
  return [
    '## Scale (one node, whole machine)',
    '',
    `Live: ${live.proxies} proxies (log on), each under its own wrk (8 connections), each followed by its own shipper, for ${live.seconds} s, everything on the same 2 cores: ` +
      `${n0(live.rps)} req/s in total; ${n0(live.searchable_when_load_stopped)} of ${n0(live.requests)} lines searchable when the load stopped, ` +
      `${n0(live.delivered)} after ${live.catch_up_seconds.toFixed(1)} s more.`,
    '',
    `Ingest vs shipper count: N shippers started together, each on its own ${n0(scale.lines_per_shipper)}-line backlog, into one node.`,
    '',
    table(
      ['shippers', 'lines', 'seconds', 'lines/s', '× one shipper', 'ES CPU s'],
      scale.ingest.map((step) => [String(step.shippers), n0(step.lines), step.seconds.toFixed(1), n0(step.lines_per_s), first ? n2(step.lines_per_s / first.lines_per_s) : '', n2(step.es_cpu_s)]),
      ['r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    'What this means for a larger deployment: [Scaling to 100,000 requests/s](#scaling-to-100000-requestss-on-paper), in the notes below.',
  ].join('\n');
}

const ENGINES_COMMAND = '`npm run bench -- --parts engines`';

function enginesSection(results: BenchResults): string {
  const engines = results.engines;
  if (!engines) return ['## Engines side by side', '', `Not run: ${results.skipped.engines ?? 'these results are from a run before this part existed'}; ${ENGINES_COMMAND} measures it.`].join('\n');
  const [first, second] = engines.engines;
  const header = ['', ...engines.engines.map((item) => `${item.name} ${item.version}`), ...(first && second ? [`${second.name} ÷ ${first.name}`] : [])];
  const metric = (label: string, pick: (item: EnginesResult['engines'][number]) => number, show: (value: number) => string, spread?: (item: EnginesResult['engines'][number]) => Summary) => [
    label,
    ...engines.engines.map((item) => `${show(pick(item))}${spread ? ` (${pct(spread(item))})` : ''}`),
    ...(first && second ? [n2(pick(second) / pick(first))] : []),
  ];
  const pair = (p50: number, p95: number) => `${n2(p50)} / ${n2(p95)}`;
  const queryRows = (first?.queries ?? []).map((row, index) => [
    row.query,
    ...engines.engines.flatMap((item) => {
      const query = item.queries[index]!;
      return [pair(query.direct_p50, query.direct_p95), pair(query.api_p50, query.api_p95), `${query.overhead_ms.toFixed(1)} ms`];
    }),
  ]);
  return [
    '## Engines side by side',
    '',
    `Each engine in turn, as a local single node with the same 1 GiB heap (the other engine's node stopped), unpinned. ` +
      `Shipping: this shipper over the same ${n0(engines.lines)}-line backlog (${(engines.log_bytes / 2 ** 20).toFixed(0)} MiB), one untimed run to warm the node and then ${engines.rounds} timed runs, ` +
      'from the shipper\'s start to the last line searchable (median, ± half the range); engine CPU is the utime + stime of the node\'s process tree (`/proc/<pid>/stat`) during a run; ' +
      'store bytes per document are those of the primaries\' Lucene segments (`_cat/segments`, which both engines answer) after a force-merge to one segment per index. ' +
      `Queries: ${n0(engines.docs)} generated documents over 7 days, loaded with refreshes off and force-merged, then each API query and the same search sent directly, ` +
      `interleaved, ${engines.runs} timed runs each after a warm-up (the API part's query set and runner).`,
    '',
    table(
      header,
      [
        metric('shipper lines/s', (item) => item.ship.lines_per_s.median, n0, (item) => item.ship.lines_per_s),
        metric('engine CPU s / 100k lines', (item) => item.ship.engine_cpu_s_per_100k.median, n2, (item) => item.ship.engine_cpu_s_per_100k),
        metric('shipper CPU s / 100k lines', (item) => item.ship.shipper_cpu_s_per_100k.median, n2, (item) => item.ship.shipper_cpu_s_per_100k),
        metric('store B/doc, shipped backlog, force-merged', (item) => item.ship.store_bytes_per_doc, n0),
        metric(`load + force-merge of ${n0(engines.docs)} documents, s`, (item) => item.load.seconds, n0),
        metric(`store B/doc, ${n0(engines.docs)} documents, force-merged`, (item) => item.load.store_bytes_per_doc, n0),
      ],
      ['l', ...header.slice(1).map(() => 'r' as const)],
    ),
    '',
    'API queries, p50 / p95 ms; overhead = API p50 − direct p50:',
    '',
    table(
      ['query', ...engines.engines.flatMap((item) => [`${item.name} direct`, `${item.name} API`, `${item.name} overhead`])],
      queryRows,
      ['l', ...engines.engines.flatMap(() => ['r', 'r', 'r'] as const)],
    ),
  ].join('\n');
}

/** The parts kept from earlier runs (all.ts --parts), as the opening sentence names them. */
function carriedParts(results: BenchResults): string {
  const carried = Object.entries(results.carried ?? {});
  return carried.map(([part, started]) => `the ${part} part (from the run of ${started.slice(0, 10)}, ${started.slice(11, 16)} UTC), `).join('');
}

export function renderMarkdown(results: BenchResults, chartPath: string): string {
  const m = results.machine;
  const parts = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` (ops/bench/all.ts) on ${results.started.slice(0, 10)}, ${results.started.slice(11, 16)}–${results.finished.slice(11, 16)} UTC. ` +
      `Every figure below comes from that one run on this machine, except ${carriedParts(results)}those the notes at the end date to an earlier or separate run; ratios compare systems measured side by side in one run. ` +
      'This page is the only place the project keeps benchmark figures. Raw figures: ' +
      '[ops/bench/report/results.json](ops/bench/report/results.json).',
    '',
    `![Throughput, latency, CPU cost and shipping rate](${chartPath})`,
    '',
    '## Machine and versions',
    '',
    table(
      ['', ''],
      [
        ['CPU', `${m.cpu}, ${m.cpus} cores (shared, virtualised)`],
        ['memory', `${m.memory_gib.toFixed(0)} GiB`],
        ['OS', `${m.os}, kernel ${m.kernel}`],
        ['load average (1 min) at start / end', `${m.load_start.toFixed(2)} / ${m.load_end.toFixed(2)}`],
        ['Node', m.node],
        ['Elasticsearch', m.elasticsearch],
        ...Object.entries(results.versions).map(([name, version]) => [name, version]),
      ],
      ['l', 'l'],
    ),
    '',
    '## Command',
    '',
    '```sh',
    results.command,
    '```',
    '',
    `Figures above: shipper backlog N = ${results.shipper ? n0(results.shipper.lines) : '–'} lines, API at ${results.api ? n0(results.api.docs) : '–'} documents. ` +
      'Options: `--seconds` per proxy run, `--rounds` runs per measurement, `--connections`, `--lines` shipper backlog (default 200,000 to keep the run near 20 minutes here; `--lines 1000000` for the issue\'s figure), ' +
      '`--api-docs`, `--scale-seconds`, `--engine-lines` and `--engine-docs` (the engines part\'s backlog and documents, 200,000 and 1,000,000), `--parts proxy,shipper,api,scale,engines`, `--quick` (short runs to check the setup). `npm run bench:proxy`, `bench:shipper` and ' +
      '`bench:api` are each part against its own ceiling.',
    '',
    '## Targets',
    '',
    targets(results),
  ];
  if (results.proxy) parts.push('', proxySection(results));
  if (results.shipper) parts.push('', shipperSection(results));
  if (results.api) {
    parts.push('', '## API', '', `\`ops/bench/api.ts --documents ${results.api.docs} --runs ${results.api.runs}\` against the same node (${results.api.seconds.toFixed(0)} s):`, '', results.api.markdown);
  }
  if (results.scale) parts.push('', scaleSection(results));
  parts.push('', enginesSection(results));
  const skipped = Object.entries(results.skipped);
  if (skipped.length) parts.push('', '## Not run', '', ...skipped.map(([part, reason]) => `- ${part}: ${reason}`));
  if (existsSync(NOTES)) parts.push('', readFileSync(NOTES, 'utf8').trim());
  return parts.join('\n') + '\n';
}
