// The proxy comparison: this proxy (access log on and off), nginx, HAProxy, Caddy, http-proxy,
// @fastify/http-proxy and the minimal undici proxy in front of the same nginx upstream, loaded by
// the same wrk. Each proxy under test runs on CPU 0; wrk and the upstream (one nginx worker,
// nginx-upstream.ts) share the other CPU, so the proxy's core is the only bottleneck. All peers are
// started once and idle while another is measured; rounds alternate their order so that a noisy
// machine hurts them alike. Per run: requests/s, p50/p99/p99.9, CPU µs per request of the proxy's
// whole process tree (/proc utime+stime before and after), its RSS after the run, and the load
// average (the machine is shared: a figure without it cannot be judged).

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { caddy, haproxy, nginx, type RunningProxy } from './native-proxies.ts';
import { LARGE_BODY_BYTES, LARGE_BODY_PREFIX, SMALL_BODY_BYTES, startNginxUpstream } from './nginx-upstream.ts';
import { fastifyPeer, httpProxyPeer, undiciPeer } from './node-peers.ts';
import { cpuSeconds, rssMiB } from './processes.ts';
import { summarizeBy, type Summary } from './stats.ts';
import { OPEN_HOST, SECURE_HOST, sessionCookie, thisProxy } from './this-proxy.ts';
import { runWrk, type WrkResult } from './wrk.ts';

export const SCENARIOS = {
  small: { title: `${SMALL_BODY_BYTES / 1024} KiB body, no auth`, path: '/bench/item?id=1', host: OPEN_HOST },
  large: { title: `${LARGE_BODY_BYTES / 1024} KiB body, no auth`, path: `${LARGE_BODY_PREFIX}item?id=1`, host: OPEN_HOST },
  auth: { title: `password-protected service, valid session cookie, ${SMALL_BODY_BYTES / 1024} KiB body`, path: '/bench/item?id=1', host: SECURE_HOST },
} as const;
export type Scenario = keyof typeof SCENARIOS;

export const DIRECT = 'direct to upstream (no proxy)';
export const THIS_ON = 'this proxy, log on';
export const THIS_OFF = 'this proxy, log off';
/** Two workers on both cores, beside wrk and the upstream: `bench:proxy --peers` only (not a per-core figure). */
export const THIS_ON_TWO_WORKERS = 'this proxy, log on, 2 workers';
/** The minimal Node proxy: the reference for what the runtime allows per core. */
export const UNDICI_PEER = undiciPeer.name;
export const NODE_PEERS = [UNDICI_PEER, httpProxyPeer.name, fastifyPeer.name];
export const ALL_PEERS = [THIS_ON, THIS_OFF, 'nginx', 'HAProxy', 'Caddy', ...NODE_PEERS];

export interface ProxyRun extends WrkResult {
  /** CPU time of the proxy's process tree per request answered, in microseconds. */
  cpu_us_per_request: number;
  rss_mib: number;
  /** 1-minute load average at the end of the run. */
  load: number;
}

export interface ProxyRow {
  peer: string;
  scenario: Scenario;
  runs: ProxyRun[];
  rps: Summary;
  p50_ms: Summary;
  p99_ms: Summary;
  p999_ms: Summary;
  cpu_us_per_request: Summary;
  rss_mib: Summary;
  load: Summary;
  errors: number;
}

export interface ProxySuiteResult {
  seconds: number;
  rounds: number;
  connections: number;
  versions: Record<string, string>;
  rows: ProxyRow[];
  /** Access-log lines each peer wrote against the requests it answered (1.0 = one per request). */
  lines_per_request: Record<string, number>;
}

export interface ProxySuiteOptions {
  dir: string;
  seconds: number;
  rounds: number;
  connections: number;
  log: (line: string) => void;
  /** Peers to measure (names from ALL_PEERS; default all) and scenarios (default all). */
  peers?: readonly string[];
  scenarios?: readonly Scenario[];
  /** Whether to measure the upstream directly, the ceiling of this machine's load core (default true). */
  direct?: boolean;
  /** Extra Node options for this proxy's processes (e.g. --cpu-prof). */
  thisProxyNodeArgs?: readonly string[];
}

interface Target {
  peer: string;
  scenario: Scenario;
  running: RunningProxy;
  headers: Record<string, string>;
}

function countLines(path: string): number {
  // A proxy with workers writes one folder per worker under its log folder.
  const files = statSync(path).isDirectory()
    ? readdirSync(path, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.log')).map((name) => join(path, name))
    : [path];
  let lines = 0;
  for (const file of files) {
    const text = readFileSync(file);
    for (let i = text.indexOf(10); i !== -1; i = text.indexOf(10, i + 1)) lines++;
  }
  return lines;
}

async function measure(target: Target, seconds: number, connections: number): Promise<ProxyRun> {
  const before = cpuSeconds(target.running.pid);
  const result = await runWrk({ url: target.running.url + SCENARIOS[target.scenario].path, headers: target.headers, seconds, connections });
  const used = cpuSeconds(target.running.pid) - before;
  return { ...result, cpu_us_per_request: result.requests ? (used / result.requests) * 1e6 : NaN, rss_mib: rssMiB(target.running.pid), load: loadavg()[0]! };
}

export async function runProxySuite(options: ProxySuiteOptions): Promise<ProxySuiteResult> {
  await mkdir(options.dir, { recursive: true });
  const upstream = await startNginxUpstream(options.dir);
  const nodeArgs = options.thisProxyNodeArgs ?? [];
  const selected = new Set(options.peers ?? ALL_PEERS);
  const peers = [thisProxy(true, nodeArgs), thisProxy(false, nodeArgs), thisProxy(true, nodeArgs, 2), nginx, haproxy, caddy, undiciPeer, httpProxyPeer, fastifyPeer].filter((peer) => selected.has(peer.name));
  const running = new Map<string, RunningProxy>();
  if (options.direct ?? true) running.set(DIRECT, { name: DIRECT, pid: upstream.pid, url: `http://127.0.0.1:${upstream.port}`, accessLog: undefined });
  const versions: Record<string, string> = {};
  for (const peer of peers) {
    running.set(peer.name, await peer.start(options.dir, upstream.port));
    const version = peer.version();
    versions[peer.name.startsWith('this proxy') ? 'this proxy' : peer.name] = version;
    options.log(`started ${peer.name}: ${version}`);
  }
  const scenarios = new Set(options.scenarios ?? (Object.keys(SCENARIOS) as Scenario[]));
  const targets: Target[] = [];
  for (const scenario of ['small', 'large'] as const) {
    if (!scenarios.has(scenario)) continue;
    for (const [peer, proxy] of running) targets.push({ peer, scenario, running: proxy, headers: { Host: OPEN_HOST, 'User-Agent': 'wrk-bench/1' } });
  }
  const authenticated = running.get(THIS_ON);
  if (scenarios.has('auth') && authenticated) {
    const cookie = await sessionCookie(authenticated.url);
    targets.push({ peer: THIS_ON, scenario: 'auth', running: authenticated, headers: { Host: SECURE_HOST, 'User-Agent': 'wrk-bench/1', Cookie: cookie } });
  }

  options.log(`warm-up: ${targets.length} targets x 2 s`);
  const answered = new Map<string, number>();
  const count = (peer: string, requests: number) => answered.set(peer, (answered.get(peer) ?? 0) + requests);
  for (const target of targets) count(target.peer, (await measure(target, 2, options.connections)).requests);

  const runs = new Map<Target, ProxyRun[]>(targets.map((target) => [target, []]));
  for (let round = 0; round < options.rounds; round++) {
    for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
      const run = await measure(target, options.seconds, options.connections);
      runs.get(target)!.push(run);
      count(target.peer, run.requests);
      options.log(
        `round ${round + 1}/${options.rounds} ${target.scenario.padEnd(5)} ${target.peer.padEnd(30)} ${run.rps.toFixed(0).padStart(6)} req/s  ` +
          `p50 ${run.p50_ms.toFixed(2)} ms  p99 ${run.p99_ms.toFixed(2)} ms  p99.9 ${run.p999_ms.toFixed(2)} ms  ${run.cpu_us_per_request.toFixed(1)} CPU-µs/req  ${run.rss_mib.toFixed(0)} MiB  load ${run.load.toFixed(2)}` +
          (run.errors ? `  ${run.errors} ERRORS` : ''),
      );
    }
  }

  const rows: ProxyRow[] = targets.map((target) => {
    const list = runs.get(target)!;
    return {
      peer: target.peer,
      scenario: target.scenario,
      runs: list,
      rps: summarizeBy(list, (run) => run.rps),
      p50_ms: summarizeBy(list, (run) => run.p50_ms),
      p99_ms: summarizeBy(list, (run) => run.p99_ms),
      p999_ms: summarizeBy(list, (run) => run.p999_ms),
      cpu_us_per_request: summarizeBy(list, (run) => run.cpu_us_per_request),
      rss_mib: summarizeBy(list, (run) => run.rss_mib),
      load: summarizeBy(list, (run) => run.load),
      errors: list.reduce((sum, run) => sum + run.errors, 0),
    };
  });
  // Let asynchronous writers catch up before counting their lines.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const linesPerRequest: Record<string, number> = {};
  for (const [peer, proxy] of running) {
    if (proxy.accessLog) linesPerRequest[peer] = countLines(proxy.accessLog) / answered.get(peer)!;
  }
  return { seconds: options.seconds, rounds: options.rounds, connections: options.connections, versions, rows, lines_per_request: linesPerRequest };
}
