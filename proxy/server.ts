// The proxy process's server: HTTP (or HTTPS) listener with its limits, the request and upgrade
// handlers, and a bounded graceful stop (stop accepting, let in-flight requests finish, cut what
// remains, flush the access log).

import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server, type ServerOptions } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import { workerLogDir, workerProxyId } from '../common/access-record.ts';
import { listenerPort } from '../common/metrics-listener.ts';
import { systemClock, type Clock } from './auth/clock.ts';
import { openAccessLog } from './access-log.ts';
import { ClientIpResolver } from './client-ip.ts';
import type { ProxyConfig } from './config.ts';
import { Recorder } from './exchange.ts';
import { createExpectationHandler, createRequestHandler, ProxyResponse, type ProxyContext } from './handler.ts';
import { watchRefusals } from './refusals.ts';
import { RequestMetrics } from './request-metrics.ts';
import { buildServices, createAuthState, serviceChanges, type Service, type ServiceChanges } from './services.ts';
import type { AuthStore } from './shared-auth.ts';
import { accessLogHealth, serveStatus, statusRegistry, type Health } from './status.ts';
import { createUpgradeHandler } from './websocket.ts';

/** How often Node checks header and request timeouts (its default, 30 s, would let them overrun). */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

export interface RunningProxy {
  server: Server;
  port: number;
  /** The status listener's port, when one is configured. */
  statusPort: number | undefined;
  /** Graceful stop; resolves once the access log is flushed and closed. */
  stop(): Promise<void>;
  /**
   * Applies a new configuration's services and trusted proxies to the requests that arrive from
   * now on; requests in flight finish on what they started with. Returns what changed.
   */
  reload(config: ProxyConfig): ReloadSummary;
  /** This process's metrics and health, for a primary that answers for its workers (no metrics without `status`). */
  report(): Promise<StatusReport>;
}

/** One of several worker processes (proxy/workers.ts). */
export interface WorkerSeat {
  /** 1 to `workers`: names its log folder and its chain of the trail. */
  number: number;
  /** Its primary's auth state, of which it keeps a replica. */
  auth: AuthStore;
}

export interface StatusReport {
  metrics: Array<MetricObjectWithValues<MetricValue<string>>>;
  health: Health;
}

export interface ReloadSummary extends ServiceChanges {
  /** Top-level keys that changed but take effect only at the next start. */
  restart_needed: string[];
}

/** Keys a reload applies; every other key is read once, at start. */
const RELOADED_KEYS: ReadonlySet<string> = new Set(['services', 'trusted_proxies', 'watch_config']);

function keysNeedingRestart(before: ProxyConfig, after: ProxyConfig): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((key) => !RELOADED_KEYS.has(key) && JSON.stringify(before[key as keyof ProxyConfig]) !== JSON.stringify(after[key as keyof ProxyConfig]));
}

/** `worker`: this process is one of several; its status is answered by its primary, not here. */
export async function startProxy(config: ProxyConfig, diagnostics: Logger, clock: Clock = systemClock, worker?: WorkerSeat): Promise<RunningProxy> {
  const logSettings = worker === undefined ? config.access_log : { ...config.access_log, dir: join(config.access_log.dir, workerLogDir(worker.number)) };
  const proxyId = worker === undefined ? config.proxy_id : workerProxyId(config.proxy_id, worker.number);
  const log = logSettings.enabled ? await openAccessLog(logSettings, proxyId, diagnostics) : undefined;
  const metrics = new RequestMetrics();
  const recorder = new Recorder(log, metrics);
  const authState = createAuthState(config, diagnostics, clock, worker?.auth);
  let current = config;
  let { router, services } = buildServices(config, authState);
  /** Pools of services a reload replaced, closing as their last requests finish; the stop ends them. */
  const retiring = new Set<Service['pool']>();
  const context: ProxyContext = { router, recorder, clientIps: new ClientIpResolver(config.trusted_proxies), tls: config.tls !== undefined, shuttingDown: false, cutting: false };
  const limits = config.limits;
  const options: ServerOptions = {
    maxHeaderSize: limits.max_header_bytes,
    headersTimeout: limits.headers_timeout_ms,
    requestTimeout: limits.request_timeout_ms,
    keepAliveTimeout: limits.keep_alive_timeout_ms,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    ServerResponse: ProxyResponse,
    // Node would answer a missing Host itself, unlogged; the request handler answers it (400) instead.
    requireHostHeader: false,
  };
  const server: Server = config.tls
    ? createHttpsServer({ ...options, cert: readFileSync(config.tls.cert_file), key: readFileSync(config.tls.key_file) })
    : createHttpServer(options);
  // A connection silent for this long (slow or stalled client) is closed.
  server.setTimeout(limits.idle_timeout_ms);
  // Upgraded sockets leave node:http's connection tracking (closeAllConnections does not reach
  // them): every upgrade's socket, from arrival to close, is held here for the stop to cut.
  const upgrades = new Set<Duplex>();
  server.on('request', createRequestHandler(context));
  server.on('upgrade', createUpgradeHandler(context, upgrades));
  server.on('checkExpectation', createExpectationHandler(context));
  watchRefusals(server, recorder, context.tls);
  server.on('connection', (socket: Duplex) => {
    metrics.openConnections++;
    socket.once('close', () => metrics.openConnections--);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listen.port, config.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => diagnostics.error({ err: error }, 'server error'));
  const port = (server.address() as AddressInfo).port;
  const registry = config.status ? statusRegistry(log, metrics) : undefined;
  const status = config.status && registry && worker === undefined ? await serveStatus(registry, () => accessLogHealth(log), config.status.host, config.status.port) : undefined;

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    context.shuttingDown = true;
    server.close();
    server.closeIdleConnections();
    const deadline = Date.now() + limits.shutdown_timeout_ms;
    while (recorder.active > 0 && Date.now() < deadline) await sleep(20);
    if (recorder.active > 0) diagnostics.warn({ in_flight: recorder.active }, 'shutdown timeout: closing remaining connections');
    context.cutting = true;
    server.closeAllConnections();
    for (const socket of upgrades) socket.destroy();
    while (recorder.active > 0) await sleep(5);
    await Promise.all([...services.map((service) => service.pool.destroy()), ...[...retiring].map((pool) => pool.destroy())]);
    await log?.close();
    status?.closeAllConnections();
    status?.close();
  };
  const reload = (next: ProxyConfig): ReloadSummary => {
    const built = buildServices(next, authState, services);
    const changes = serviceChanges(services, built.services);
    const inUse = new Set(built.services);
    for (const old of services) {
      if (inUse.has(old)) continue;
      // close() lets the requests already on the pool finish; new ones go to the new services.
      retiring.add(old.pool);
      old.pool.close().then(
        () => retiring.delete(old.pool),
        (error: Error) => diagnostics.warn({ err: error, service: old.id }, 'closing a replaced upstream pool failed'),
      );
    }
    ({ router, services } = built);
    context.router = router;
    context.clientIps = new ClientIpResolver(next.trusted_proxies);
    const summary = { ...changes, restart_needed: keysNeedingRestart(current, next) };
    current = next;
    return summary;
  };
  const report = async (): Promise<StatusReport> => ({ metrics: registry ? await registry.getMetricsAsJSON() : [], health: accessLogHealth(log) });
  return { server, port, statusPort: status && listenerPort(status), stop: () => (stopping ??= stop()), reload, report };
}
