// The API part is ops/bench/api.ts as its author wrote it (each query through the API against the
// same Elasticsearch request sent directly), run as a child against this run's node; its table
// (Markdown on stdout) goes into BENCHMARKS.md as printed.

import { spawn } from 'node:child_process';
import { track } from './processes.ts';
import { ProxyAccessLogError } from '../../../common/errors.ts';

const script = new URL('../api.ts', import.meta.url).pathname;
const root = new URL('../../../', import.meta.url).pathname;

export interface ApiResult {
  docs: number;
  runs: number;
  markdown: string;
  seconds: number;
}

export class ApiBenchError extends ProxyAccessLogError {
  readonly code = 'BENCH_API_FAILED';
}

export async function runApiSuite(options: { esUrl: string; docs: number; runs: number; log: (line: string) => void }): Promise<ApiResult> {
  const began = performance.now();
  const child = spawn(process.execPath, [script, '--documents', String(options.docs), '--runs', String(options.runs)], {
    cwd: root,
    env: { ...process.env, ELASTICSEARCH_URL: options.esUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const line of chunk.toString().split('\n').filter(Boolean)) options.log(`bench:api: ${line}`);
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new ApiBenchError(`ops/bench/api.ts exited ${code}:\n${stderr.slice(-3000)}`);
  return { docs: options.docs, runs: options.runs, markdown: stdout.trim(), seconds: (performance.now() - began) / 1000 };
}
