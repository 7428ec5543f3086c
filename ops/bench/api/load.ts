// The API under concurrent load (`npm run bench:api -- --concurrency 8,32,128`): the API runs as
// its own process (api/main.ts, pinned to one CPU, logging at info as in production); wrk sends
// each query through it and, at the same concurrency, the same Elasticsearch request directly
// (the ceiling). Per run: req/s, p50/p99, errors, and the CPU of the API, Elasticsearch and wrk
// itself (so a saturated load generator shows). Then 20 clients export at once while the API's
// RSS is sampled.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import type { BenchQuery } from './queries.ts';
import { CPU_UNDER_TEST, cpuSeconds, rssMiB, start, stop } from '../peers/processes.ts';
import { runWrk, type WrkOptions, type WrkResult } from '../peers/wrk.ts';
import { indexPattern } from '../../../common/proxy-event-document.ts';

export const TARGET = { connections: 32, ratio: 0.8, p99Ms: 250, exportRssMiB: 300 } as const;
export const EXPORT_CLIENTS = 20;
const RSS_SAMPLE_MS = 100;
/** wrk's timeout: a slow answer on a loaded machine is measured, not dropped as a socket timeout. */
const WRK_TIMEOUT_SECONDS = 30;
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

/** A wrk script that POSTs `body` (JSON.stringify of an ASCII string is a valid Lua literal). */
async function postScript(dir: string, name: string, body: string): Promise<string> {
  const file = join(dir, `${name.replaceAll(/\W+/g, '-')}.lua`);
  await writeFile(file, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\n`);
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
    const viaApi = { url: `${options.api.url}${query.path}?${new URLSearchParams(query.params)}`, headers: { Authorization: `Bearer ${options.token}` } };
    const direct = {
      url: `${options.esUrl}/${indexPattern(options.prefix)}/_search?allow_partial_search_results=false`,
      headers: { 'Content-Type': 'application/json' },
      script: await postScript(options.dir, query.name, JSON.stringify(query.request)),
    };
    for (const connections of options.levels) {
      const measure = async (target: Pick<WrkOptions, 'url' | 'headers' | 'script'>, apiPid?: number): Promise<LoadRun> => {
        const cpuBefore = { api: apiPid && cpuSeconds(apiPid), es: options.esPid && cpuSeconds(options.esPid) };
        const began = performance.now();
        const { cpu_seconds: wrkCpuSeconds, ...result } = await runWrk({ ...target, connections, seconds: options.seconds, timeout: WRK_TIMEOUT_SECONDS });
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
