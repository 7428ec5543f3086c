// The shipper's own numbers: counted as plain fields on the hot path, printed on stderr at an
// interval and on exit, and served to Prometheus on request when a port is configured.

import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

export interface MetricsSnapshot {
  lines_read: number;
  indexed: number;
  duplicates: number;
  dead_lettered: number;
  retries: number;
  bytes_lost: number;
  lag_bytes: number;
  /** Age of the newest acknowledged record while lines are still waiting; 0 when caught up. */
  lag_seconds: number | null;
  /** Each SIEM output's own numbers, by output name; absent when none is configured. */
  outputs?: Record<string, OutputMetricsSnapshot>;
}

type OutputCountName = 'lines_read' | 'delivered' | 'skipped' | 'retries' | 'bytes_lost';

export type OutputMetricsSnapshot = Record<OutputCountName, number> & { lag_bytes: number };

const OUTPUT_HELP: Record<OutputCountName, string> = {
  lines_read: 'Log lines read by a SIEM output (each output reads the files on its own)',
  delivered: 'Events a SIEM output’s receiver confirmed (a batch sent again after a failure counts again)',
  skipped: 'Lines a SIEM output skipped as not access records (the Elasticsearch path dead-letters them)',
  retries: 'Batches a SIEM output sent again after its receiver did not confirm them',
  bytes_lost: 'Bytes of log files deleted or truncated before a SIEM output read them',
};

/** One SIEM output's numbers: counted as plain fields, as the shipper's are. */
export class OutputMetrics {
  readonly counts: Record<OutputCountName, number> = { lines_read: 0, delivered: 0, skipped: 0, retries: 0, bytes_lost: 0 };
  readonly #lagBytes: () => number;

  constructor(lagBytes: () => number) {
    this.#lagBytes = lagBytes;
  }

  snapshot(): OutputMetricsSnapshot {
    return { ...this.counts, lag_bytes: this.#lagBytes() };
  }
}

type CountName = 'lines_read' | 'indexed' | 'duplicates' | 'dead_lettered' | 'retries' | 'bytes_lost';

const HELP: Record<CountName, string> = {
  lines_read: 'Log lines read from the access log files',
  indexed: 'Documents created in Elasticsearch',
  duplicates: 'Lines already indexed before (409 on create): re-sent after a restart or retry',
  dead_lettered: 'Lines written to the dead-letter file',
  retries: 'Bulk requests retried (cluster unreachable, 429 or 5xx)',
  bytes_lost: 'Bytes of log files deleted or truncated before they were read',
};

export class ShipperMetrics {
  readonly counts: Record<CountName, number> = {
    lines_read: 0,
    indexed: 0,
    duplicates: 0,
    dead_lettered: 0,
    retries: 0,
    bytes_lost: 0,
  };
  readonly #lagBytes: () => number;
  #newestAckedRecordMs: number | undefined;
  readonly #outputs = new Map<string, OutputMetrics>();

  constructor(lagBytes: () => number) {
    this.#lagBytes = lagBytes;
  }

  /** Registers a SIEM output's numbers, reported with the shipper's under its name. */
  addOutput(name: string, metrics: OutputMetrics): void {
    this.#outputs.set(name, metrics);
  }

  recordAcknowledged(recordTimeMs: number): void {
    if (this.#newestAckedRecordMs === undefined || recordTimeMs > this.#newestAckedRecordMs) this.#newestAckedRecordMs = recordTimeMs;
  }

  snapshot(now = Date.now()): MetricsSnapshot {
    const lagBytes = this.#lagBytes();
    let lagSeconds: number | null = 0;
    if (lagBytes > 0) lagSeconds = this.#newestAckedRecordMs === undefined ? null : Math.max(0, (now - this.#newestAckedRecordMs) / 1000);
    const snapshot: MetricsSnapshot = { ...this.counts, lag_bytes: lagBytes, lag_seconds: lagSeconds };
    if (this.#outputs.size > 0) snapshot.outputs = Object.fromEntries([...this.#outputs].map(([name, output]) => [name, output.snapshot()]));
    return snapshot;
  }

  registry(): Registry {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'shipper_' });
    const metrics = this;
    for (const name of Object.keys(HELP) as CountName[]) {
      new Counter({
        name: `shipper_${name}_total`,
        help: HELP[name],
        registers: [registry],
        collect() {
          this.reset();
          this.inc(metrics.counts[name]);
        },
      });
    }
    new Gauge({
      name: 'shipper_lag_bytes',
      help: 'Bytes in the log files not yet acknowledged by Elasticsearch',
      registers: [registry],
      collect() {
        this.set(metrics.snapshot().lag_bytes);
      },
    });
    new Gauge({
      name: 'shipper_lag_seconds',
      help: 'Age of the newest acknowledged record while lines are waiting (0 when caught up)',
      registers: [registry],
      collect() {
        const lag = metrics.snapshot().lag_seconds;
        if (lag !== null) this.set(lag);
      },
    });
    const outputs = this.#outputs;
    for (const name of Object.keys(OUTPUT_HELP) as OutputCountName[]) {
      new Counter({
        name: `shipper_output_${name}_total`,
        help: OUTPUT_HELP[name],
        labelNames: ['output'],
        registers: [registry],
        collect() {
          this.reset();
          for (const [output, numbers] of outputs) this.inc({ output }, numbers.counts[name]);
        },
      });
    }
    new Gauge({
      name: 'shipper_output_lag_bytes',
      help: 'Bytes in the log files not yet confirmed by a SIEM output’s receiver',
      labelNames: ['output'],
      registers: [registry],
      collect() {
        for (const [output, numbers] of outputs) this.set({ output }, numbers.snapshot().lag_bytes);
      },
    });
    return registry;
  }
}
