// The proxy's status listener, apart from proxied traffic: GET /health (JSON; 503 while the
// `refuse` policy turns requests away) and GET /metrics (Prometheus text): the requests answered
// (request-metrics.ts), and whether the access log is writable, how many bytes it wrote, how many
// wait in memory and how many lines were dropped.

import type { Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { serveMetrics, type MetricsSource } from '../common/metrics-listener.ts';
import type { AccessLog } from './access-log.ts';
import type { RequestMetrics } from './request-metrics.ts';

export const HEALTH_PATH = '/health';

/** A counter whose total is kept elsewhere and read at scrape time. */
function readCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

export function statusRegistry(log: AccessLog | undefined, requests: RequestMetrics): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'proxy_' });
  requests.register(registry);
  if (log === undefined) return registry;
  new Gauge({
    name: 'proxy_access_log_writable',
    help: '1 while access-log lines reach the file, 0 while they cannot be written',
    registers: [registry],
    collect() {
      this.set(log.status().state === 'writable' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'proxy_access_log_refusing',
    help: '1 while requests are answered 503 because their lines could not be kept (policy refuse)',
    registers: [registry],
    collect() {
      this.set(log.refusing ? 1 : 0);
    },
  });
  new Gauge({
    name: 'proxy_access_log_buffered_bytes',
    help: 'Bytes of access-log lines held in memory, not yet in the file',
    registers: [registry],
    collect() {
      this.set(log.status().buffered_bytes);
    },
  });
  readCounter(registry, 'proxy_access_log_dropped_lines_total', 'Access-log lines dropped because the file was unwritable and the buffer full', () => log.status().dropped_lines);
  readCounter(registry, 'proxy_access_log_written_bytes_total', 'Bytes of access-log lines appended to the files', () => log.status().written_bytes);
  readCounter(registry, 'proxy_access_log_write_errors_total', 'Appends to the access log that failed (each retried)', () => log.status().write_errors);
  return registry;
}

/** What GET /health answers: 503 while the `refuse` policy turns requests away. */
export interface Health {
  status: number;
  body: unknown;
}

export function accessLogHealth(log: AccessLog | undefined): Health {
  return { status: log?.refusing ? 503 : 200, body: { access_log: log?.status() ?? { state: 'disabled' } } };
}

/** `metrics` is this process's registry, or the primary's sum of its workers' (proxy/workers.ts). */
export function serveStatus(metrics: MetricsSource, health: () => Health | Promise<Health>, host: string, port: number): Promise<Server> {
  return serveMetrics(metrics, host, port, {
    [HEALTH_PATH]: (response) => {
      Promise.resolve(health()).then(
        ({ status, body }) => response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body)),
        () => response.writeHead(500).end(),
      );
    },
  });
}
