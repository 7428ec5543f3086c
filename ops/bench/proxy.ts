// `npm run bench:proxy`: requests/s and p50/p99 latency against one fast upstream directly,
// through the proxy with the access log off, and with it on, in one run; rounds alternate between
// the three so that a noisy machine hurts them alike, and the median round is reported.
// Throughput on a shared machine swings with everyone else's load, so the proxy's own CPU time per
// request (from /proc, Linux) is reported too: it is what the access log actually costs.
// Everything binds to 127.0.0.1. Options: --seconds N (per measurement, default 4), --rounds N
// (default 4), --connections N (default 32). With taskset available, the load generator is pinned
// to the last CPU so it cannot crowd out what it measures. With the log on, the proxy also chains
// every line and signs checkpoints (the trail), as a compliance deployment runs it.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { availableParallelism, tmpdir } from 'node:os';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '4' },
    connections: { type: 'string', default: '32' },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const here = new URL('.', import.meta.url).pathname;
const root = new URL('../../', import.meta.url).pathname;

const canPin = availableParallelism() >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const loadCpu = String(availableParallelism() - 1);
function command(cpus: string | undefined, args: string[]): [string, string[]] {
  return canPin && cpus ? ['taskset', ['-c', cpus, process.execPath, ...args]] : [process.execPath, args];
}

const children: ChildProcess[] = [];
function start(cpus: string | undefined, args: string[], ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const [file, argv] = command(cpus, args);
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) resolve({ child, match });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args[0]} exited (${code}): ${output}`)));
  });
}

interface Measurement {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  total_requests: number;
  /** CPU time of the process under test per request, in microseconds (NaN when unknown). */
  cpu_us: number;
}

const TICKS_PER_SECOND = 100;

/** utime + stime of a process in clock ticks, or NaN off Linux. */
async function cpuTicks(pid: number | undefined): Promise<number> {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return Number.NaN;
  }
}

async function measure(url: string, host: string | undefined, pid: number | undefined): Promise<Measurement> {
  const before = await cpuTicks(pid);
  const args = [join(here, 'proxy/load.ts'), '--url', url, '--seconds', String(seconds), '--connections', values.connections!];
  if (host) args.push('--host', host);
  const [file, argv] = command(loadCpu, args);
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  const result = JSON.parse(output) as Measurement;
  result.cpu_us = (((await cpuTicks(pid)) - before) / TICKS_PER_SECOND / result.total_requests) * 1e6;
  return result;
}

async function startProxy(dir: string, upstreamPort: number, log: boolean): Promise<{ child: ChildProcess; url: string }> {
  const config = {
    proxy_id: log ? 'bench-log-on' : 'bench-log-off',
    // One process: these figures are per proxy process (workers are measured on their own).
    workers: 1,
    listen: { host: '127.0.0.1', port: 0 },
    access_log: {
      enabled: log,
      dir: join(dir, log ? 'logs-on' : 'logs-off'),
      rotation: { size: '100m', frequency: 'daily' },
      keep: 5,
      ...(log ? { signing_key_file: join(dir, SIGNING_KEY_FILE) } : {}),
    },
    services: [{ id: 'bench', hosts: ['bench.test'], upstream: `http://127.0.0.1:${upstreamPort}`, auth: { method: 'none' } }],
  };
  const file = join(dir, log ? 'on.json' : 'off.json');
  await rm(join(dir, log ? 'logs-on' : 'logs-off'), { recursive: true, force: true });
  await writeFile(file, JSON.stringify(config));
  const { child, match } = await start(undefined, [join(root, 'proxy/main.ts'), '--config', file], /"port":(\d+)[^\n]*"msg":"proxy listening"/);
  return { child, url: `http://127.0.0.1:${match[1]}` };
}

const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;

const SIGNING_KEY_FILE = 'trail.key';
const dir = await mkdtemp(join(tmpdir(), 'proxy-bench-'));
try {
  await writeFile(join(dir, SIGNING_KEY_FILE), generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const upstream = await start(undefined, [join(here, 'proxy/upstream.ts')], /^(\d+)\n/);
  const upstreamPort = Number(upstream.match[1]);
  const names = ['direct to upstream', 'proxy, access log off', 'proxy, access log on'];
  const results = new Map<string, Measurement[]>(names.map((name) => [name, []]));
  process.stderr.write(`bench: ${rounds} rounds x ${names.length} targets x ${seconds}s, ${values.connections} connections${canPin ? `, load generator pinned to CPU ${loadCpu}` : ''}\n`);
  for (let round = 0; round < rounds; round++) {
    // Fresh proxies each round, started in alternating order: two identical processes can differ
    // by several percent for where they happen to land, and this spreads that over both.
    const first = await startProxy(dir, upstreamPort, round % 2 === 1);
    const second = await startProxy(dir, upstreamPort, round % 2 === 0);
    const [off, on] = round % 2 === 0 ? [first, second] : [second, first];
    const targets = [
      { name: names[0]!, url: `http://127.0.0.1:${upstreamPort}`, host: undefined, pid: upstream.child.pid },
      { name: names[1]!, url: off.url, host: 'bench.test', pid: off.child.pid },
      { name: names[2]!, url: on.url, host: 'bench.test', pid: on.child.pid },
    ];
    for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
      const result = await measure(target.url, target.host, target.pid);
      results.get(target.name)!.push(result);
      process.stderr.write(`  round ${round + 1} ${target.name}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50_ms.toFixed(2)} ms, p99 ${result.p99_ms.toFixed(2)} ms, ${result.cpu_us.toFixed(0)} µs CPU/req${result.errors ? `, ${result.errors} errors` : ''}\n`);
    }
    for (const proxy of [first, second]) {
      proxy.child.kill('SIGTERM');
      await new Promise((resolve) => proxy.child.once('exit', resolve));
    }
  }
  const summary = names.map((name) => {
    const list = results.get(name)!;
    return {
      name,
      rps: median(list.map((item) => item.rps)),
      p50: median(list.map((item) => item.p50_ms)),
      p99: median(list.map((item) => item.p99_ms)),
      cpu: median(list.map((item) => item.cpu_us)),
    };
  });
  console.log('\ntarget                    req/s     p50 ms    p99 ms   CPU µs/req (of the server under test)');
  for (const row of summary) {
    console.log(`${row.name.padEnd(24)}${row.rps.toFixed(0).padStart(7)}${row.p50.toFixed(2).padStart(10)}${row.p99.toFixed(2).padStart(10)}${row.cpu.toFixed(0).padStart(9)}`);
  }
  const [direct, logOff, logOn] = summary as [(typeof summary)[0], (typeof summary)[0], (typeof summary)[0]];
  console.log(`\nproxy (log off) / direct:  ${(logOff.rps / direct.rps).toFixed(3)} of direct req/s`);
  console.log(`log on / log off:          ${(logOn.rps / logOff.rps).toFixed(3)} of req/s (target >= 0.95), p99 ${(logOn.p99 / logOff.p99).toFixed(3)}x`);
  console.log(`CPU per request, off / on: ${(logOff.cpu / logOn.cpu).toFixed(3)} (the req/s ratio a CPU-bound proxy would reach)`);
} finally {
  for (const child of children) child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 500));
  await rm(dir, { recursive: true, force: true });
}
