// The shipper as the operator runs it: `node shipper/main.ts` in its own process, so tests can
// SIGTERM it, SIGKILL it and read its stderr.

import { spawn, type ChildProcess } from 'node:child_process';
import type { ElasticsearchConnection } from '../../common/elasticsearch-connection.ts';
import { SHIPPER_NODE_FLAGS } from '../../shipper/node-flags.ts';
import { FIELD, indexPattern } from '../../common/proxy-event-document.ts';
import type { Storage } from '../../common/storage/storage.ts';
import { childEnv } from '../helpers/elasticsearch.ts';
import { scrapePrometheus } from '../helpers/prometheus.ts';

export interface ShipperRun {
  child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** SIGTERM once the shipper can take it (it has said it started), and the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

export interface ShipperArgs {
  logs: string;
  state: string;
  connection: ElasticsearchConnection;
  prefix: string;
  args?: string[];
}

/** What the shipper logs once it takes signals (shipper/main.ts). */
const STARTED_LINE = '"msg":"shipper started"';

export function startShipper(options: ShipperArgs): ShipperRun {
  const child = spawn(
    process.execPath,
    [
      ...SHIPPER_NODE_FLAGS,
      'shipper/main.ts',
      '--logs', options.logs,
      '--state', options.state,
      '--index-prefix', options.prefix,
      '--poll-interval-ms', '200',
      '--flush-interval-ms', '200',
      '--metrics-interval-ms', '1000',
      ...(options.args ?? []),
    ],
    { env: childEnv(options.connection), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Its signal handlers are in place by then: a SIGTERM while Node still loads the code ends the
  // process by the signal's default action, with no exit code.
  const started = new Promise<void>((resolve) => {
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
      if (stderr.includes(STARTED_LINE)) resolve();
    });
    void exited.then(() => resolve());
  });
  return {
    child,
    stderr: () => stderr,
    exited,
    async stop() {
      await started;
      child.kill('SIGTERM');
      return await exited;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function countDocuments(storage: Storage, prefix: string): Promise<number> {
  await storage.refresh(indexPattern(prefix));
  return await storage.count(indexPattern(prefix));
}

/** Polls until the prefix holds `expected` documents; fails with the last count after `timeoutMs`. */
export async function waitForCount(storage: Storage, prefix: string, expected: number, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let count = 0;
  while (Date.now() < deadline) {
    // A shard being created answers 503 for a moment: keep asking.
    count = await countDocuments(storage, prefix).catch(() => count);
    if (count >= expected) return count;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`expected ${expected} documents under ${prefix}, found ${count} after ${timeoutMs} ms`);
}

/** Request ids indexed more than once (there must be none). */
export async function duplicatedEventIds(storage: Storage, prefix: string): Promise<string[]> {
  const response = await storage.search({
    index: indexPattern(prefix),
    size: 0,
    aggs: { ids: { terms: { field: FIELD.eventId, min_doc_count: 2, size: 10 } } },
  });
  const buckets = (response.aggregations?.ids as { buckets: Array<{ key: string }> }).buckets;
  return buckets.map((bucket) => bucket.key);
}

/** The shipper's stderr metrics lines, newest last. */
export function metricsLines(stderr: string): Array<Record<string, number | null>> {
  return stderr
    .split('\n')
    .filter((line) => line.includes('"msg":"metrics"'))
    .map((line) => (JSON.parse(line) as { metrics: Record<string, number | null> }).metrics);
}

/** The shipper's Prometheus samples by name, e.g. `shipper_lag_bytes`; it must run with `--metrics-port`. */
export async function scrapeMetrics(run: ShipperRun): Promise<Record<string, number>> {
  return (await scrapePrometheus(metricsUrl(run))).unlabelled();
}

/** Where the shipper serves its Prometheus metrics; it must run with `--metrics-port`. */
export function metricsUrl(run: ShipperRun): string {
  const url = /"metrics_url":"([^"]+)"/.exec(run.stderr())?.[1];
  if (url === undefined) throw new Error('the shipper has not printed its metrics_url yet');
  return url;
}
