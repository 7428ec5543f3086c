// `node api/main.ts --config <file>`: the search API. Logs (pino, JSON) go to stderr. Every /api
// request is appended to the audit file, which the forwarder copies into Elasticsearch. SIGTERM or
// SIGINT: stop accepting, let running requests finish (exports get a grace period), close the
// audit file and send what it holds that Elasticsearch has not, exit 0.

import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadOrExit } from '../common/config.ts';
import { listenerPort, serveMetrics } from '../common/metrics-listener.ts';
import { createStorage } from '../common/storage/create.ts';
import { engineMismatchOnceReachable } from '../common/storage/engine.ts';
import { createApp } from './app.ts';
import { AuditFile } from './audit/audit-file.ts';
import { AuditForwarder } from './audit/forwarder.ts';
import { loadConfig } from './config.ts';
import { EventStore } from './event-store.ts';
import { ApiMetrics } from './metrics.ts';

const SHUTDOWN_GRACE_MS = 10_000;

function fail(message: string): never {
  process.stderr.write(`api: ${message}\n`);
  process.exit(1);
}

let configFile: string | undefined;
try {
  configFile = parseArgs({ options: { config: { type: 'string' } } }).values.config;
} catch (error) {
  fail(`${(error as Error).message}\nusage: node api/main.ts --config <file>`);
}
if (!configFile) fail('usage: node api/main.ts --config <file>');

const config = loadOrExit('api', () => loadConfig(configFile));

const logger = pino({ name: 'api', level: config.log_level }, pino.destination(2));
let audit: AuditFile;
try {
  audit = new AuditFile(config.audit.file, logger);
} catch (error) {
  fail(`audit.file: cannot open ${config.audit.file} for appending: ${(error as Error).message}`);
}
const storage = createStorage(config.elasticsearch);
const timeoutMs = config.elasticsearch.request_timeout_ms;
const forwarder = new AuditForwarder({ storage, prefix: config.index_prefix, file: config.audit.file, logger, timeoutMs });
// The audit file is the buffer: nothing is copied into a cluster before it is known to be the configured engine.
void engineMismatchOnceReachable(config.elasticsearch).then((mismatch) => {
  if (!mismatch) return forwarder.start();
  logger.fatal({ code: mismatch.code }, mismatch.message);
  logger.flush();
  fail(mismatch.message);
});
const metrics = config.metrics ? new ApiMetrics() : undefined;
const store = new EventStore(storage, config.index_prefix, timeoutMs, metrics);
const app = createApp({ store, tokens: config.tokens, logger, corsOrigins: config.cors.origins, metrics, insights: config.insights, audit });
let metricsListener: Server | undefined;
if (metrics && config.metrics) {
  const { host, port } = config.metrics;
  metricsListener = await serveMetrics(metrics.registry, host, port).catch((error: unknown) => {
    logger.fatal({ err: error }, 'cannot listen for metrics');
    process.exit(1);
  });
  logger.info({ metrics_url: `http://${host}:${listenerPort(metricsListener)}/metrics` }, 'prometheus metrics served');
}

const server: Server = app.listen(config.listen.port, config.listen.host);
server.once('error', (error) => {
  logger.fatal({ err: error }, 'cannot listen');
  process.exit(1);
});
server.once('listening', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.listen.port;
  logger.info({ url: `http://${config.listen.host}:${port}`, index_prefix: config.index_prefix }, 'listening');
});

let stopping = false;
async function stop(signal: NodeJS.Signals) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const grace = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
  await closed;
  clearTimeout(grace);
  metricsListener?.close();
  await audit.close();
  await forwarder.stop();
  await storage.close();
  logger.info('stopped');
  logger.flush();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
