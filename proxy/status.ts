// The proxy's status listener, apart from proxied traffic: GET /health (JSON; 503 while the
// `refuse` policy turns requests away) and GET /metrics (Prometheus text) show whether the access
// log is writable, how many bytes wait in memory and how many lines were dropped.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { AccessLog } from './access-log.ts';

export const HEALTH_PATH = '/health';
export const METRICS_PATH = '/metrics';

function registryOf(log: AccessLog | undefined): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'proxy_' });
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
  new Counter({
    name: 'proxy_access_log_dropped_lines_total',
    help: 'Access-log lines dropped because the file was unwritable and the buffer full',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(log.status().dropped_lines);
    },
  });
  return registry;
}

export async function serveStatus(log: AccessLog | undefined, host: string, port: number): Promise<Server> {
  const registry = registryOf(log);
  const server = createServer((request, response) => {
    const path = request.url?.split('?', 1)[0];
    if (request.method === 'GET' && path === HEALTH_PATH) {
      const accessLog = log?.status() ?? { state: 'disabled' };
      response.writeHead(log?.refusing ? 503 : 200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(JSON.stringify({ access_log: accessLog }));
      return;
    }
    if (request.method === 'GET' && path === METRICS_PATH) {
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => response.writeHead(500).end(),
      );
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

export function statusPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}
