// A proxy of `workers` processes (node:cluster). The primary serves no request: it holds the listen
// socket and hands each new connection to a worker in turn (cluster's round robin), keeps the auth
// state the workers share (proxy/shared-auth.ts), answers the status listener for all of them,
// restarts a worker that dies and passes on SIGHUP and the stop. Round robin rather than
// SO_REUSEPORT: with one socket, owned by the primary, a worker that dies takes only its own
// connections with it (a reuseport socket's backlog of connections not yet accepted would be reset),
// and connections spread evenly whatever the kernel's hash of their addresses.
// Each worker is a whole proxy (proxy/server.ts) writing its own log folder and chain of the trail
// (`worker-<N>/`, `<proxy_id>/<N>`: common/access-record.ts); a restarted worker takes the number
// of the one it replaces, so it continues that worker's files and chain.

import cluster, { type Worker } from 'node:cluster';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { AggregatorRegistry, Registry } from 'prom-client';
import { listenerPort } from '../common/metrics-listener.ts';
import type { ProxyConfig } from './config.ts';
import type { StatusReport, WorkerSeat } from './server.ts';
import { isAuthRequest, SharedAuthKeeper, SharedAuthReplica, type AuthRequest, type AuthUpdate } from './shared-auth.ts';
import { serveStatus, type Health } from './status.ts';

/** Carries a worker's number (1 to `workers`) to the process cluster forks. */
const WORKER_NUMBER_ENV = 'PROXY_WORKER_NUMBER';
/** A worker that dies sooner than this after its start is restarted after this long, so a worker that cannot start does not spin. */
const RESTART_AFTER_QUICK_EXIT_MS = 1_000;
/** How long the primary waits for a worker's figures for one scrape of /metrics or /health. */
const REPORT_TIMEOUT_MS = 2_000;

/** Messages between the primary and a worker besides auth. */
type ToWorker = AuthUpdate | { type: 'worker:stop' } | { type: 'worker:reload' } | { type: 'worker:report'; id: number };
type FromWorker = AuthRequest | { type: 'worker:snapshot' } | { type: 'worker:started'; port: number } | { type: 'worker:report'; id: number; report: StatusReport };

/** This process's worker number, when it is a worker. */
export function workerNumber(): number | undefined {
  return cluster.isWorker ? Number(process.env[WORKER_NUMBER_ENV]) : undefined;
}

export function isPrimaryOfWorkers(config: ProxyConfig): boolean {
  return config.workers > 1 && cluster.isPrimary;
}

/** What a worker does on the primary's word. */
export interface WorkerControl {
  stop(): void;
  reload(): void;
  report(): Promise<StatusReport>;
}

/**
 * In a worker: asks the primary for the shared auth state and keeps it current. Resolves with the
 * worker's seat and `connect`, which routes the primary's stop, reload and status requests to
 * `control` and says the worker is serving on `port`.
 */
export async function joinPrimary(config: ProxyConfig, diagnostics: Logger): Promise<{ seat: WorkerSeat; connect(control: WorkerControl, port: number): void }> {
  const send = (message: FromWorker) => process.send!(message);
  let control: WorkerControl | undefined;
  /** A stop asked for before the worker was serving: done as soon as it is. */
  let stopAsked = false;
  let replica: SharedAuthReplica | undefined;
  const snapshot = new Promise<Extract<AuthUpdate, { type: 'auth:snapshot' }>>((resolve) => {
    process.on('message', (message: ToWorker) => {
      if (typeof message?.type !== 'string') return;
      if (message.type === 'auth:snapshot') resolve(message);
      else if (message.type.startsWith('auth:')) replica?.apply(message as AuthUpdate);
      else if (message.type === 'worker:stop') {
        stopAsked = true;
        control?.stop();
      }
      else if (message.type === 'worker:reload') control?.reload();
      else if (message.type === 'worker:report' && control) {
        const { id } = message;
        control.report().then((report) => send({ type: 'worker:report', id, report }));
      }
    });
  });
  send({ type: 'worker:snapshot' });
  replica = new SharedAuthReplica(config, await snapshot, send, diagnostics);
  return {
    seat: { number: workerNumber()!, auth: replica },
    connect(given, port) {
      control = given;
      send({ type: 'worker:started', port });
      if (stopAsked) given.stop();
    },
  };
}

interface Seat {
  number: number;
  worker: Worker;
  startedAt: number;
}

/**
 * The primary: forks `config.workers` workers and keeps them running until SIGTERM/SIGINT, then
 * has each drain and exits 0 once all have (1 when one of them did not stop cleanly).
 */
export async function runPrimary(config: ProxyConfig, diagnostics: Logger): Promise<void> {
  const seats = new Map<number, Seat>();
  const broadcast = (message: AuthUpdate) => {
    for (const { worker } of seats.values()) if (worker.isConnected()) worker.send(message);
  };
  const keeper = new SharedAuthKeeper(config, diagnostics, broadcast);
  const reports = new Map<number, (report: StatusReport) => void>();
  let nextReport = 1;
  let starting = config.workers;
  let stopping = false;
  let uncleanStop = false;
  let status: Server | undefined;

  const fork = (number: number) => {
    const worker = cluster.fork({ [WORKER_NUMBER_ENV]: String(number) });
    seats.set(number, { number, worker, startedAt: Date.now() });
    worker.on('message', (message: FromWorker) => {
      if (isAuthRequest(message)) {
        keeper.handle(message, (reply) => worker.isConnected() && worker.send(reply)).catch((error: unknown) => diagnostics.error({ err: error, worker: number }, 'shared auth request failed'));
      } else if (message.type === 'worker:snapshot') worker.send(keeper.snapshot());
      else if (message.type === 'worker:report') {
        reports.get(message.id)?.(message.report);
        reports.delete(message.id);
      } else if (message.type === 'worker:started') {
        diagnostics.info({ worker: number, pid: worker.process.pid }, 'worker started');
        if (starting > 0 && --starting === 0) listening(message.port);
      }
    });
    // A send to a worker whose channel just closed: its exit, which follows, is what counts.
    worker.on('error', (error: Error) => diagnostics.warn({ err: error, worker: number }, 'message to a worker not delivered'));
    worker.on('exit', (code, signal) => {
      const seat = seats.get(number);
      if (seat?.worker !== worker) return;
      if (stopping) {
        if (code !== 0) uncleanStop = true;
        seats.delete(number);
        if (seats.size === 0) finish();
        return;
      }
      if (starting > 0) {
        diagnostics.fatal({ worker: number, code, signal }, 'proxy failed to start: a worker exited before it listened');
        stopping = true;
        uncleanStop = true;
        seats.delete(number);
        for (const other of seats.values()) other.worker.process.kill('SIGKILL');
        if (seats.size === 0) finish();
        return;
      }
      seats.delete(number);
      const lived = Date.now() - seat.startedAt;
      diagnostics.error({ worker: number, pid: worker.process.pid, code, signal }, 'worker exited: starting another');
      setTimeout(() => stopping || fork(number), lived < RESTART_AFTER_QUICK_EXIT_MS ? RESTART_AFTER_QUICK_EXIT_MS : 0);
    });
  };

  /** Every worker's figures, as far as they come within REPORT_TIMEOUT_MS. */
  const collect = async (): Promise<StatusReport[]> => {
    const asked = [...seats.values()].filter(({ worker }) => worker.isConnected());
    return (
      await Promise.all(
        asked.map(
          ({ worker }) =>
            new Promise<StatusReport | undefined>((resolve) => {
              const id = nextReport++;
              const timer = setTimeout(() => {
                reports.delete(id);
                resolve(undefined);
              }, REPORT_TIMEOUT_MS);
              reports.set(id, (report) => {
                clearTimeout(timer);
                resolve(report);
              });
              worker.send({ type: 'worker:report', id } satisfies ToWorker);
            }),
        ),
      )
    ).filter((report) => report !== undefined);
  };
  const summedMetrics = {
    contentType: Registry.PROMETHEUS_CONTENT_TYPE,
    metrics: async () => AggregatorRegistry.aggregate((await collect()).map((report) => report.metrics)).metrics(),
  };
  const health = async (): Promise<Health> => {
    const all = await collect();
    const refusing = all.length < config.workers || all.some((report) => report.health.status !== 200);
    return { status: refusing ? 503 : 200, body: { workers: all.map((report) => report.health.body) } };
  };

  const listening = (port: number) => {
    diagnostics.info(
      { proxy: config.proxy_id, workers: config.workers, host: config.listen.host, port, status_port: status && listenerPort(status), access_log: config.access_log.enabled ? config.access_log.dir : false },
      'proxy listening',
    );
  };

  const finish = () => {
    status?.closeAllConnections();
    status?.close();
    diagnostics.info(uncleanStop ? 'stopped, not cleanly' : 'stopped');
    process.exit(uncleanStop ? 1 : 0);
  };

  process.on('SIGHUP', () => {
    if (stopping) return;
    for (const { worker } of seats.values()) if (worker.isConnected()) worker.send({ type: 'worker:reload' } satisfies ToWorker);
  });
  const shutdown = (signal: NodeJS.Signals) => {
    diagnostics.info({ signal }, 'stopping');
    if (stopping) return;
    stopping = true;
    if (seats.size === 0) return finish();
    for (const { worker } of seats.values()) if (worker.isConnected()) worker.send({ type: 'worker:stop' } satisfies ToWorker);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  if (config.status) {
    status = await serveStatus(summedMetrics, health, config.status.host, config.status.port).catch((error: Error) => {
      diagnostics.fatal({ err: error }, 'proxy failed to start');
      process.exit(1);
    });
  }
  for (let number = 1; number <= config.workers; number++) fork(number);
}
