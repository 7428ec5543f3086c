// `npm run bench:cluster`: the product on a local secured 3-node cluster through node failures
// (ops/bench/cluster/scenario.ts): a data node killed and back after 30 s, the elected master
// killed and back after 30 s, the whole cluster stopped for 30 s. Prints one line,
//   cluster: written=<N> indexed=<N> duplicates=<N> missing=<N> api_ok=<percent> api_p95_ms=<n> freshness_p95_ms=<n>
// and writes its section of BENCHMARKS.md with the fault timeline (ops/bench/report/cluster-timeline.svg).
// Options: --rate N requests/s per proxy (50) · --down-seconds N (30) · --gap-seconds N between
// faults (30) · --warmup-seconds N (30). Load goes to 127.0.0.1 only, bounded; every node and
// process started is stopped at the end and on Ctrl-C.

import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalCluster, type LocalCluster } from '../elasticsearch/local-cluster.ts';
import { GOALS, renderClusterSection, summaryLine, timelineSvg } from './cluster/report.ts';
import { runClusterScenario } from './cluster/scenario.ts';
import { OWNED_SECTIONS, writeSection } from './report/sections.ts';

const say = (line: string) => process.stderr.write(`[bench:cluster] ${line}\n`);
function fail(message: string): never {
  process.stderr.write(`bench:cluster: ${message}\n`);
  process.exit(1);
}

let values: Record<string, string | undefined>;
try {
  ({ values } = parseArgs({
    options: { rate: { type: 'string' }, 'down-seconds': { type: 'string' }, 'gap-seconds': { type: 'string' }, 'warmup-seconds': { type: 'string' } },
  }));
} catch (error) {
  fail((error as Error).message);
}
const number = (name: string, fallback: number) => {
  const value = values[name];
  if (value === undefined) return fallback;
  if (!/^[1-9]\d*$/.test(value)) fail(`--${name}: a whole number, at least 1`);
  return Number(value);
};
const rate = number('rate', 50);
const downSeconds = number('down-seconds', 30);
const gapSeconds = number('gap-seconds', 30);
const warmupSeconds = number('warmup-seconds', 30);

const root = new URL('../../', import.meta.url).pathname;
const chartPath = 'ops/bench/report/cluster-timeline.svg';
const loadAtStart = loadavg()[0]!;
say(`load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
const dir = await mkdtemp(join(tmpdir(), 'bench-cluster-'));
let cluster: LocalCluster | undefined;
const stopping = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`${signal}: stopping every node`);
    stopping.abort();
    void (cluster?.stop() ?? Promise.resolve()).finally(() => rm(dir, { recursive: true, force: true })).finally(() => process.exit(130));
  });
}

try {
  cluster = await startLocalCluster({ nodes: 3, readyTimeoutMs: 600_000, signal: stopping.signal, log: say });
  const result = await runClusterScenario({
    cluster,
    dir: join(dir, 'scenario'),
    rate,
    warmupSeconds,
    faults: [
      { kind: 'data node killed', downSeconds },
      { kind: 'master killed', downSeconds },
      { kind: 'cluster stopped', downSeconds },
    ],
    gapSeconds,
    drainTimeoutMs: 300_000,
    log: say,
    signal: stopping.signal,
  });
  const command = `npm run bench:cluster -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, '');
  writeFileSync(join(root, chartPath), timelineSvg(result));
  writeSection(join(root, 'BENCHMARKS.md'), OWNED_SECTIONS.cluster, renderClusterSection(result, { command, loadAverage: [loadAtStart, loadavg()[0]!], chartPath }));
  say(`wrote BENCHMARKS.md and ${chartPath}`);
  const late = result.freshness.filter((sample) => sample.searchableAt - sample.lineAt > GOALS.freshnessP95Ms);
  say(`sampled lines later than ${GOALS.freshnessP95Ms} ms (s into the run: wait): ${late.map((s) => `${((s.lineAt - result.started) / 1000).toFixed(0)}: ${((s.searchableAt - s.lineAt) / 1000).toFixed(1)}`).join(', ') || 'none'}`);
  console.log(summaryLine(result));
} finally {
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
}
