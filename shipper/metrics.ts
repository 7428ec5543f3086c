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

  constructor(lagBytes: () => number) {
    this.#lagBytes = lagBytes;
  }

  recordAcknowledged(recordTimeMs: number): void {
    if (this.#newestAckedRecordMs === undefined || recordTimeMs > this.#newestAckedRecordMs) this.#newestAckedRecordMs = recordTimeMs;
  }

  snapshot(now = Date.now()): MetricsSnapshot {
    const lagBytes = this.#lagBytes();
    let lagSeconds: number | null = 0;
    if (lagBytes > 0) lagSeconds = this.#newestAckedRecordMs === undefined ? null : Math.max(0, (now - this.#newestAckedRecordMs) / 1000);
    return { ...this.counts, lag_bytes: lagBytes, lag_seconds: lagSeconds };
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
    return registry;
  }
}
