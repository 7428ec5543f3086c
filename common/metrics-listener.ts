// Each process's own listener for Prometheus (GET /metrics) and, where the process has one, its
// health check: apart from the public port, so that neither is reachable where clients are.

import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export const METRICS_PATH = '/metrics';

/** Answers one GET path of the listener besides /metrics. */
export type StatusRoute = (response: ServerResponse) => void;

/** A registry, or anything that answers like one (a sum over several processes). */
export type MetricsSource = Pick<Registry, 'metrics' | 'contentType'>;

export async function serveMetrics(registry: MetricsSource, host: string, port: number, routes: Record<string, StatusRoute> = {}): Promise<Server> {
  const server = createServer((request, response) => {
    const path = request.url?.split('?', 1)[0] ?? '';
    if (request.method !== 'GET') {
      response.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (path === METRICS_PATH) {
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => response.writeHead(500).end(),
      );
      return;
    }
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (route) route(response);
    else response.writeHead(404).end();
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

export function listenerPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}
