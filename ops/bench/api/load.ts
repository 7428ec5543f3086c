// The API under concurrent load (`npm run bench:api -- --concurrency 8,32,128`): the API runs as
// its own process (api/main.ts, pinned to one CPU, logging at info as in production); wrk sends
// each query through it and, at the same concurrency, the same Elasticsearch request directly
// (the ceiling). Per run: req/s, p50/p99, errors, and the CPU of the API, Elasticsearch and wrk
// itself (so a saturated load generator shows). Then 20 clients export at once while the API's
// RSS is sampled.

import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import type { BenchQuery } from './queries.ts';
import { CPU_OTHERS, CPU_UNDER_TEST, cpuSeconds, rssMiB, start, stop, track } from '../peers/processes.ts';
import { WrkError, parseWrk, type WrkResult } from '../peers/wrk.ts';
import { indexPattern } from '../../../common/proxy-event-document.ts';

export const TARGET = { connections: 32, ratio: 0.8, p99Ms: 250, exportRssMiB: 300 } as const;
export const EXPORT_CLIENTS = 20;
const RSS_SAMPLE_MS = 100;
const root = new URL('../../../', import.meta.url).pathname;

export interface LoadRun extends WrkResult {
  /** CPU seconds per wall second (1.0 = one core busy). */
  cpu: { api?: number; elasticsearch?: number; wrk: number };
}

export interface LoadRow {
  query: string;
  connections: number;
  api: LoadRun;
  direct: LoadRun;
}

export interface ExportBurst {
  clients: number;
  records: number;
  megabytes: number;
  seconds: number;
  rss_before_mib: number;
  rss_peak_mib: number;
  errors: number;
}

export interface ApiProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** api/main.ts with a configuration of its own, pinned beside nothing else the benchmark runs. */
export async function startApiProcess(options: { dir: string; esUrl: string; prefix: string; tokenSha256: string }): Promise<ApiProcess> {
  const config = join(options.dir, 'api.json');
  await writeFile(
    config,
    JSON.stringify({
      listen: { host: '127.0.0.1', port: 0 },
      elasticsearch: { url: options.esUrl },
      index_prefix: options.prefix,
      tokens: [{ name: 'bench', sha256: options.tokenSha256 }],
    }),
  );
  const started = await start('api', process.execPath, [join(root, 'api/main.ts'), '--config', config], {
    cpus: CPU_UNDER_TEST,
    ready: /"url":"(http:\/\/[^"]+)"/,
  });
  return { url: started.match![1]!, pid: started.pid, stop: () => stop(started.child) };
}

/** One wrk run, pinned away from the API, with the CPU wrk itself used (bash's `times`). */
async function wrk(options: { url: string; connections: number; seconds: number; script: string; dir: string }): Promise<{ result: WrkResult; wrkCpuSeconds: number }> {
  const quote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;
  const command = `taskset -c ${CPU_OTHERS} wrk -t1 -c${options.connections} -d${options.seconds}s --latency -s ${quote(options.script)} ${quote(options.url)}; status=$?; times; exit $status`;
  const child = spawn('bash', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.dir });
  track(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new WrkError(`wrk exited ${code}:\n${output}`);
  // `times` prints the shell's user/system time, then its children's: wrk's.
  const times = [...output.matchAll(/(\d+)m([\d.]+)s (\d+)m([\d.]+)s/g)].at(-1);
  if (!times) throw new WrkError(`no CPU times after wrk:\n${output}`);
  const wrkCpuSeconds = Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4]);
  return { result: parseWrk(output), wrkCpuSeconds };
}

/** A wrk script: the method, headers and body of every request. */
async function script(dir: string, name: string, request: { method: string; headers: Record<string, string>; body?: string }): Promise<string> {
  const file = join(dir, `${name.replaceAll(/\W+/g, '-')}.lua`);
  const lines = [`wrk.method = ${JSON.stringify(request.method)}`];
  for (const [header, value] of Object.entries(request.headers)) lines.push(`wrk.headers[${JSON.stringify(header)}] = ${JSON.stringify(value)}`);
  // JSON.stringify of a string is a valid Lua string literal for the ASCII bodies sent here.
  if (request.body !== undefined) lines.push(`wrk.body = ${JSON.stringify(request.body)}`);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

export interface LoadOptions {
  dir: string;
  api: ApiProcess;
  token: string;
  esUrl: string;
  esPid?: number;
  prefix: string;
  queries: BenchQuery[];
  levels: number[];
  seconds: number;
  log: (line: string) => void;
}

export async function runLoadLevels(options: LoadOptions): Promise<LoadRow[]> {
  const rows: LoadRow[] = [];
  for (const query of options.queries) {
    const viaApi = {
      url: `${options.api.url}${query.path}?${new URLSearchParams(query.params)}`,
      script: await script(options.dir, `api-${query.name}`, { method: 'GET', headers: { Authorization: `Bearer ${options.token}` } }),
    };
    const direct = {
      url: `${options.esUrl}/${indexPattern(options.prefix)}/_search?allow_partial_search_results=false`,
      script: await script(options.dir, `direct-${query.name}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(query.request) }),
    };
    for (const connections of options.levels) {
      const measure = async (target: { url: string; script: string }, apiPid?: number): Promise<LoadRun> => {
        const cpuBefore = { api: apiPid && cpuSeconds(apiPid), es: options.esPid && cpuSeconds(options.esPid) };
        const began = performance.now();
        const { result, wrkCpuSeconds } = await wrk({ ...target, connections, seconds: options.seconds, dir: options.dir });
        const wall = (performance.now() - began) / 1000;
        return {
          ...result,
          cpu: {
            api: apiPid ? (cpuSeconds(apiPid) - (cpuBefore.api as number)) / wall : undefined,
            elasticsearch: options.esPid ? (cpuSeconds(options.esPid) - (cpuBefore.es as number)) / wall : undefined,
            wrk: wrkCpuSeconds / wall,
          },
        };
      };
      const api = await measure(viaApi, options.api.pid);
      const directRun = await measure(direct);
      rows.push({ query: query.name, connections, api, direct: directRun });
      options.log(`${query.name} @${connections}: API ${Math.round(api.rps)} req/s p99 ${api.p99_ms.toFixed(0)} ms, direct ${Math.round(directRun.rps)} req/s`);
    }
  }
  return rows;
}

/** `clients` exports at once, each read to its end, while the API's RSS is sampled. */
export async function runExportBurst(options: { api: ApiProcess; token: string; params: Record<string, string>; clients: number }): Promise<ExportBurst> {
  const rssBefore = rssMiB(options.api.pid);
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(options.api.pid))), RSS_SAMPLE_MS);
  const began = performance.now();
  let records = 0;
  let bytes = 0;
  let errors = 0;
  try {
    await Promise.all(
      Array.from({ length: options.clients }, async () => {
        const url = `${options.api.url}/api/events/proxy/export?${new URLSearchParams(options.params)}`;
        const response = await request(url, { headers: { authorization: `Bearer ${options.token}` } });
        if (response.statusCode !== 200) errors++;
        for await (const chunk of response.body as AsyncIterable<Buffer>) {
          bytes += chunk.length;
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) records++;
        }
      }),
    );
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, rssMiB(options.api.pid));
  return {
    clients: options.clients,
    records,
    megabytes: bytes / 2 ** 20,
    seconds: (performance.now() - began) / 1000,
    rss_before_mib: rssBefore,
    rss_peak_mib: peak,
    errors,
  };
}
