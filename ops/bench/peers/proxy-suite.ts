// The proxy comparison: this proxy (access log on and off), nginx, HAProxy, Caddy, http-proxy and
// @fastify/http-proxy in front of the same node:http upstream, loaded by the same wrk. Each proxy
// under test runs on CPU 0; wrk and the upstream share the other CPU. All peers are started once
// and idle while another is measured; rounds alternate their order so that a noisy machine hurts
// them alike. Per run: requests/s, p50/p99, CPU seconds per 10,000 requests of the proxy's whole
// process tree (/proc utime+stime before and after), and its RSS after the run.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { caddy, haproxy, nginx, type ProxyPeer, type RunningProxy } from './native-proxies.ts';
import { fastifyPeer, httpProxyPeer } from './node-peers.ts';
import { CPU_OTHERS, cpuSeconds, rssMiB, start } from './processes.ts';
import { summarizeBy, type Summary } from './stats.ts';
import { OPEN_HOST, SECURE_HOST, sessionCookie, thisProxy } from './this-proxy.ts';
import { runWrk, type WrkResult } from './wrk.ts';

const upstreamScript = new URL('../proxy/upstream.ts', import.meta.url).pathname;

export const SCENARIOS = {
  small: { title: 'small body (29 B), no auth', path: '/bench/item?id=1', host: OPEN_HOST },
  large: { title: '64 KiB body, no auth', path: '/64k/item?id=1', host: OPEN_HOST },
  auth: { title: 'password-protected service, valid session cookie, small body', path: '/bench/item?id=1', host: SECURE_HOST },
} as const;
export type Scenario = keyof typeof SCENARIOS;

export const DIRECT = 'direct to upstream (no proxy)';
export const THIS_ON = 'this proxy, log on';
export const THIS_OFF = 'this proxy, log off';
export const NODE_PEERS = [httpProxyPeer.name, fastifyPeer.name];

export interface ProxyRun extends WrkResult {
  cpu_s_per_10k: number;
  rss_mib: number;
}

export interface ProxyRow {
  peer: string;
  scenario: Scenario;
  runs: ProxyRun[];
  rps: Summary;
  p50_ms: Summary;
  p99_ms: Summary;
  cpu_s_per_10k: Summary;
  rss_mib: Summary;
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
}

interface Target {
  peer: string;
  scenario: Scenario;
  running: RunningProxy;
  headers: Record<string, string>;
}

function countLines(path: string): number {
  const files = statSync(path).isDirectory() ? readdirSync(path).filter((name) => name.endsWith('.log')).map((name) => join(path, name)) : [path];
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
  return { ...result, cpu_s_per_10k: result.requests ? (used / result.requests) * 10_000 : NaN, rss_mib: rssMiB(target.running.pid) };
}

export async function runProxySuite(options: ProxySuiteOptions): Promise<ProxySuiteResult> {
  await mkdir(options.dir, { recursive: true });
  const upstream = await start('upstream', process.execPath, [upstreamScript], { cpus: CPU_OTHERS, ready: /^(\d+)\n/ });
  const upstreamPort = Number(upstream.match![1]);
  const peers: ProxyPeer[] = [thisProxy(true), thisProxy(false), nginx, haproxy, caddy, httpProxyPeer, fastifyPeer];
  const running = new Map<string, RunningProxy>([[DIRECT, { name: DIRECT, pid: upstream.pid, url: `http://127.0.0.1:${upstreamPort}`, accessLog: undefined }]]);
  const versions: Record<string, string> = {};
  for (const peer of peers) {
    running.set(peer.name, await peer.start(options.dir, upstreamPort));
    const version = peer.version();
    versions[peer.name.startsWith('this proxy') ? 'this proxy' : peer.name] = version;
    options.log(`started ${peer.name}: ${version}`);
  }
  const cookie = await sessionCookie(running.get(THIS_ON)!.url);

  const targets: Target[] = [];
  for (const scenario of ['small', 'large'] as const) {
    for (const [peer, proxy] of running) targets.push({ peer, scenario, running: proxy, headers: { Host: OPEN_HOST, 'User-Agent': 'wrk-bench/1' } });
  }
  targets.push({ peer: THIS_ON, scenario: 'auth', running: running.get(THIS_ON)!, headers: { Host: SECURE_HOST, 'User-Agent': 'wrk-bench/1', Cookie: cookie } });

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
          `p50 ${run.p50_ms.toFixed(2)} ms  p99 ${run.p99_ms.toFixed(2)} ms  ${run.cpu_s_per_10k.toFixed(2)} CPU-s/10k  ${run.rss_mib.toFixed(0)} MiB` +
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
      cpu_s_per_10k: summarizeBy(list, (run) => run.cpu_s_per_10k),
      rss_mib: summarizeBy(list, (run) => run.rss_mib),
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
