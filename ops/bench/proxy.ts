// `npm run bench:proxy`: this proxy with the access log on and off beside the minimal undici proxy
// and the nginx upstream directly, loaded by wrk the way `npm run bench` loads every proxy
// (peers/proxy-suite.ts: proxy on CPU 0, wrk and nginx on the other), rounds interleaved, the
// median reported. The machine is shared, so the figure to trust is the proxy's own CPU time per
// request (/proc), printed with the load average of each run. Writes nothing but its output.
// Options: --seconds N (per run, default 6) · --rounds N (3) · --connections N (64) ·
// --scenarios small,large,auth (small) · --peers 'NAME;…' (this proxy on/off and the undici proxy;
// names hold commas, so ';' separates them; 'this proxy, log on, 2 workers' runs on every core) ·
// --no-direct · --profile DIR (this proxy runs with --cpu-prof, a .cpuprofile per process into
// DIR). Load goes to 127.0.0.1 only.

import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensurePrerequisites } from './peers/prerequisites.ts';
import { atExit, stopEverything } from './peers/processes.ts';
import { ALL_PEERS, runProxySuite, SCENARIOS, THIS_OFF, THIS_ON, THIS_ON_TWO_WORKERS, UNDICI_PEER, type ProxyRow, type Scenario } from './peers/proxy-suite.ts';

const PEER_SEPARATOR = ';';
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '64' },
    scenarios: { type: 'string', default: 'small' },
    peers: { type: 'string', default: [THIS_ON, THIS_OFF, UNDICI_PEER].join(PEER_SEPARATOR) },
    'no-direct': { type: 'boolean', default: false },
    profile: { type: 'string' },
  },
});
const scenarios = values.scenarios.split(',') as Scenario[];
for (const scenario of scenarios) if (!(scenario in SCENARIOS)) throw new Error(`--scenarios: unknown "${scenario}" (known: ${Object.keys(SCENARIOS).join(', ')})`);
const knownPeers = [...ALL_PEERS, THIS_ON_TWO_WORKERS];
const peers = values.peers.split(PEER_SEPARATOR).map((peer) => peer.trim());
for (const peer of peers) if (!knownPeers.includes(peer)) throw new Error(`--peers: unknown "${peer}" (known, separated by "${PEER_SEPARATOR}": ${knownPeers.join('; ')})`);
const say = (line: string) => process.stderr.write(`[bench:proxy] ${line}\n`);

ensurePrerequisites(['proxy'], say);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopEverything().finally(() => process.exit(130)));
const dir = await mkdtemp(join(tmpdir(), 'bench-proxy-'));
atExit(() => rm(dir, { recursive: true, force: true }));
say(`load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
try {
  const result = await runProxySuite({
    dir,
    seconds: Number(values.seconds),
    rounds: Number(values.rounds),
    connections: Number(values.connections),
    log: say,
    peers,
    scenarios,
    direct: !values['no-direct'],
    thisProxyNodeArgs: values.profile ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values.profile)}`] : [],
  });
  const cell = (value: number, digits: number, width: number) => (Number.isFinite(value) ? value.toFixed(digits) : '–').padStart(width);
  const line = (item: ProxyRow) =>
    `${item.scenario.padEnd(6)}${item.peer.padEnd(32)}${cell(item.rps.median, 0, 8)}${cell(item.p50_ms.median, 2, 8)}${cell(item.p99_ms.median, 2, 8)}` +
    `${cell(item.p999_ms.median, 2, 9)}${cell(item.cpu_us_per_request.median, 1, 10)}${cell(item.cpu_us_per_request.spread * 50, 0, 7)}%${cell(item.load.min, 2, 7)}–${item.load.max.toFixed(2)}`;
  console.log(`\n${'scene'.padEnd(6)}${'target'.padEnd(32)}   req/s  p50 ms  p99 ms  p99.9 ms  CPU µs/req  ±     load (1 min)`);
  for (const item of result.rows) console.log(line(item));
  for (const scenario of scenarios) {
    const find = (peer: string) => result.rows.find((item) => item.peer === peer && item.scenario === scenario)?.cpu_us_per_request.median;
    const [on, off, undici] = [find(THIS_ON), find(THIS_OFF), find(UNDICI_PEER)];
    if (on !== undefined && off !== undefined) console.log(`${scenario}: log cost (CPU per request, on ÷ off − 1): ${((on / off - 1) * 100).toFixed(1)} %`);
    if (on !== undefined && undici !== undefined) console.log(`${scenario}: one core, log on ÷ ${UNDICI_PEER}: ${(undici / on).toFixed(3)}×`);
  }
} finally {
  await stopEverything();
}
