// Every process the benchmark starts goes through here: pinned to CPUs with taskset, remembered,
// and stopped at the end or on Ctrl-C (SIGTERM, then SIGKILL after a grace period). Also what
// /proc tells about a process tree: CPU seconds used (utime + stime) and resident memory.

import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { ProxyAccessLogError } from '../../../common/errors.ts';

export class PeerStartError extends ProxyAccessLogError {
  readonly code = 'BENCH_PEER_START_FAILED';
}

/** The CPU the thing under test runs on, and the CPUs of everything else (load, upstream, ES). */
export const CPU_UNDER_TEST = '0';
export const CPU_OTHERS = availableParallelism() > 1 ? `1-${availableParallelism() - 1}` : '0';
const canPin = availableParallelism() > 1 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;

const running = new Set<ChildProcess>();
const cleanups: (() => Promise<void>)[] = [];

export interface StartOptions {
  cpus?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where stdout goes: a file descriptor (e.g. a log file opened by the caller) or a pipe. */
  stdout?: number;
  /** Resolves once the output matches; the match is returned. */
  ready?: RegExp;
  /** Or resolves once this succeeds (polled). */
  probe?: () => Promise<boolean>;
  timeoutMs?: number;
}

export interface Started {
  child: ChildProcess;
  pid: number;
  match?: RegExpExecArray;
  output: () => string;
}

export async function start(name: string, file: string, args: string[], options: StartOptions = {}): Promise<Started> {
  const [command, argv] = canPin && options.cpus ? ['taskset', ['-c', options.cpus, file, ...args]] : [file, args];
  const stdio: StdioOptions = ['ignore', options.stdout ?? 'pipe', 'pipe'];
  const child = spawn(command, argv, { env: options.env ?? process.env, cwd: options.cwd, stdio });
  running.add(child);
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr!.on('data', collect);
  child.once('exit', () => running.delete(child));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => reject(new PeerStartError(`${name} exited (${code ?? signal}) while starting:\n${output.slice(-3000)}`))),
  );
  exited.catch(() => {});
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const ready = new Promise<RegExpExecArray | undefined>((resolve, reject) => {
    const poll = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (options.ready) {
        const match = options.ready.exec(output);
        if (match) return resolve(match);
      } else if (!options.probe || (await options.probe().catch(() => false))) {
        return resolve(undefined);
      }
      if (Date.now() > deadline) return reject(new PeerStartError(`${name} not ready within ${options.timeoutMs ?? 30_000} ms:\n${output.slice(-3000)}`));
      setTimeout(poll, 50);
    };
    poll();
  });
  const match = await Promise.race([ready, exited]);
  return { child, pid: child.pid!, match, output: () => output };
}

export async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Remembers a child started elsewhere, so that the end of the run (or Ctrl-C) stops it too. */
export function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/** Registers work for the end of the run (stopping Elasticsearch, removing temp dirs). */
export function atExit(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup);
}

export async function stopProcesses(): Promise<void> {
  await Promise.all([...running].map((child) => stop(child, 'SIGTERM', 5_000)));
}

export async function stopEverything(): Promise<void> {
  await stopProcesses();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error) => process.stderr.write(`cleanup: ${error}\n`));
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** The process and all its descendants (nginx's workers, rsyslog's helpers). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const parent = parentOf(pid);
    if (parent === undefined) continue;
    children.set(parent, [...(children.get(parent) ?? []), pid]);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU seconds (user + system, all threads) used so far by a process tree. */
export function cpuSeconds(root: number): number {
  let ticks = 0;
  for (const pid of processTree(root)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited between the listing and the read
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** Resident memory of a process tree in MiB: now (VmRSS) or at its peak (VmHWM, per process). */
export function rssMiB(root: number, which: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  let kib = 0;
  for (const pid of processTree(root)) {
    try {
      const match = new RegExp(`${which}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (match) kib += Number(match[1]);
    } catch {
      // exited
    }
  }
  return kib / 1024;
}
