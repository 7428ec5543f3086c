// The benchmark's load generator, run in its own process: keeps `connections` keep-alive
// connections busy with GETs for `seconds`, then prints requests/s and latency percentiles as JSON.

import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    host: { type: 'string' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '32' },
  },
});
const url = values.url!;
const connections = Number(values.connections);
const pool = new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
const headers = values.host ? { host: values.host, 'user-agent': 'proxy-bench/1' } : { 'user-agent': 'proxy-bench/1' };

async function run(seconds: number, latencies: number[] | undefined): Promise<{ count: number; errors: number; elapsed: number }> {
  const start = performance.now();
  const end = start + seconds * 1000;
  let count = 0;
  let errors = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const began = performance.now();
      try {
        const response = await pool.request({ path: '/bench/item?id=1', method: 'GET', headers });
        await response.body.dump();
        if (response.statusCode !== 200) errors++;
      } catch {
        errors++;
      }
      count++;
      latencies?.push(performance.now() - began);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  return { count, errors, elapsed: (performance.now() - start) / 1000 };
}

const warmup = await run(Number(values.warmup), undefined);
const latencies: number[] = [];
const result = await run(Number(values.seconds), latencies);
latencies.sort((a, b) => a - b);
const percentile = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
await pool.close();
process.stdout.write(
  `${JSON.stringify({ requests: result.count, total_requests: warmup.count + result.count, errors: warmup.errors + result.errors, rps: result.count / result.elapsed, p50_ms: percentile(50), p99_ms: percentile(99) })}\n`,
);
