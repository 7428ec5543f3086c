// `npm run bench:shipper [-- --lines N] [--rounds R]`: the shipper part of `npm run bench` on its
// own (ops/bench/peers/shipper-suite.ts), on a local node: a backlog of N lines (default
// 1,000,000) indexed by this shipper (in both geo modes), by rsyslog and by the raw `_bulk` ceiling, after a warm-up
// until the node's rate is stable, R rounds (default 3) with the order reversed every round; then
// the SIGKILL check of each log shipper. Prints the figures as JSON on stdout: lines/s per
// contestant (median, min, max), the shipper's ratios to the ceiling and to rsyslog, its peak RSS
// in each geo mode and CPU, the warm-up's rates, and the load average at start and end (the machine may be shared).

import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createElasticsearchClient } from '../../common/elasticsearch-connection.ts';
import { startLocalNode } from '../elasticsearch/local-node.ts';
import { ensurePrerequisites } from './peers/prerequisites.ts';
import { atExit, stopEverything } from './peers/processes.ts';
import { RAW, RSYSLOG, runShipperSuite, SHIPPER, SHIPPER_MMDB } from './peers/shipper-suite.ts';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
  },
});
const count = (value: string, name: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name}: expected a positive integer, got "${value}"`);
  return parsed;
};
const lines = count(values.lines, 'lines');
const rounds = count(values.rounds, 'rounds');
const say = (line: string) => process.stderr.write(`[bench:shipper] ${line}\n`);
const load = () => loadavg().map((value) => Number(value.toFixed(2)));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`${signal}: stopping everything`);
    void stopEverything().finally(() => process.exit(130));
  });
}

ensurePrerequisites(['shipper'], say);
const command = `npm run bench:shipper -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, '');
const loadStart = load();
say(`load average ${loadStart.join(' ')}; ${lines} lines, ${rounds} rounds`);
try {
  const dir = await mkdtemp(join(tmpdir(), 'bench-shipper-'));
  atExit(() => rm(dir, { recursive: true, force: true }));
  const node = await startLocalNode({ log: say });
  atExit(() => node.stop());
  const client = createElasticsearchClient({ url: node.url, request_timeout_ms: 120_000 }, { requestTimeout: 120_000 });
  atExit(() => client.close());
  const result = await runShipperSuite({ dir, client, esUrl: node.url, esPid: node.pid, lines, rounds, log: say });
  const row = (contestant: string) => result.rows.find((item) => item.contestant === contestant)!;
  const spread = (contestant: string) => {
    const { median, min, max } = row(contestant).lines_per_s;
    return { median: Math.round(median), min: Math.round(min), max: Math.round(max) };
  };
  const shipper = row(SHIPPER);
  console.log(
    JSON.stringify(
      {
        command,
        lines,
        rounds,
        load_average: { start: loadStart, end: load() },
        warm_up_lines_per_s: result.warm_up?.rates.map(Math.round),
        warm_up_stable: result.warm_up?.stable,
        lines_per_s: { [SHIPPER]: spread(SHIPPER), [SHIPPER_MMDB]: spread(SHIPPER_MMDB), [RAW]: spread(RAW), [RSYSLOG]: spread(RSYSLOG) },
        raw_bulks_in_flight: result.raw_in_flight,
        shipper_to_ceiling: Number((shipper.lines_per_s.median / row(RAW).lines_per_s.median).toFixed(2)),
        shipper_to_rsyslog: Number((shipper.lines_per_s.median / row(RSYSLOG).lines_per_s.median).toFixed(2)),
        shipper_peak_rss_mib: Object.fromEntries([SHIPPER, SHIPPER_MMDB].map((name) => [name, { median: Math.round(row(name).peak_rss_mib.median), max: Math.round(row(name).peak_rss_mib.max) }])),
        shipper_cpu_s: Number(shipper.cpu_s.median.toFixed(1)),
        exactly_once_after_sigkill: Object.fromEntries(result.kill.map((check) => [check.contestant, check.delivery])),
      },
      null,
      2,
    ),
  );
} finally {
  await stopEverything();
}
