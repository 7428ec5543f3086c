// One wrk run (keep-alive, a fixed number of connections, one thread, pinned beside the upstream)
// and what it printed: requests/s, p50/p99/p99.9 latency (wrk-percentiles.lua), errors; and wrk's
// own CPU.

import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { CPU_OTHERS, track } from './processes.ts';
import { ProxyAccessLogError } from '../../../common/errors.ts';

export interface WrkOptions {
  url: string;
  headers: Record<string, string>;
  seconds: number;
  connections: number;
  /** A Lua script setting the method and body (wrk -s); the percentiles' `done` is added to it. */
  script?: string;
  /** Seconds before wrk counts a request as timed out (its default: 2). */
  timeout?: number;
}

export interface WrkResult {
  requests: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  p999_ms: number;
  /** Non-2xx/3xx responses plus socket errors. */
  errors: number;
}

export class WrkError extends ProxyAccessLogError {
  readonly code = 'BENCH_WRK_FAILED';
}

const PERCENTILES_SCRIPT = new URL('wrk-percentiles.lua', import.meta.url).pathname;

/** wrk takes one script: the caller's, when it has one, followed by the percentiles' `done`. */
function withPercentiles(script: string | undefined): string {
  if (script === undefined) return PERCENTILES_SCRIPT;
  const combined = `${script}.percentiles.lua`;
  writeFileSync(combined, `${readFileSync(script, 'utf8')}\n${readFileSync(PERCENTILES_SCRIPT, 'utf8')}`);
  return combined;
}

/** A percentile the script printed, in milliseconds. */
function latencyMs(output: string, percentile: string): number {
  const match = new RegExp(`^percentile ${percentile.replace('.', '\\.')} (\\d+)$`, 'm').exec(output);
  if (!match) throw new WrkError(`no p${percentile} latency in wrk output:\n${output}`);
  return Number(match[1]) / 1000;
}

export function parseWrk(output: string): WrkResult {
  const requests = /(\d+) requests in/.exec(output);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  if (!requests || !rps) throw new WrkError(`unexpected wrk output:\n${output}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    requests: Number(requests[1]),
    rps: Number(rps[1]),
    p50_ms: latencyMs(output, '50'),
    p99_ms: latencyMs(output, '99'),
    p999_ms: latencyMs(output, '99.9'),
    errors: (non2xx ? Number(non2xx[1]) : 0) + socketErrors,
  };
}

/** What bash's `times` prints last: the CPU its children (wrk) used, user and system. */
function childCpuSeconds(output: string): number {
  const times = [...output.matchAll(/(\d+)m([\d.]+)s (\d+)m([\d.]+)s/g)].at(-1);
  if (!times) throw new WrkError(`no CPU times after wrk:\n${output}`);
  return Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4]);
}

/** One wrk run; `cpu_seconds` is wrk's own CPU, so a saturated load generator shows. */
export async function runWrk(options: WrkOptions): Promise<WrkResult & { cpu_seconds: number }> {
  const args = ['-c', CPU_OTHERS, 'wrk', '-t1', `-c${options.connections}`, `-d${options.seconds}s`, '-s', withPercentiles(options.script)];
  for (const [name, value] of Object.entries(options.headers)) args.push('-H', `${name}: ${value}`);
  if (options.timeout) args.push('--timeout', `${options.timeout}s`);
  args.push(options.url);
  const child = spawn('bash', ['-c', 'taskset "$@"; status=$?; times; exit $status', 'wrk', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new WrkError(`wrk exited ${code}:\n${output}`);
  return { ...parseWrk(output), cpu_seconds: childCpuSeconds(output) };
}
