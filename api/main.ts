// `node api/main.ts --config <file>`: the search API. Logs (pino, JSON) go to stderr. SIGTERM or
// SIGINT: stop accepting, let running requests finish (exports get a grace period), exit 0.

import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadOrExit } from '../common/config.ts';
import { listenerPort, serveMetrics } from '../common/metrics-listener.ts';
import { createElasticsearchClient } from '../common/elasticsearch-connection.ts';
import { createApp } from './app.ts';
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
const client = createElasticsearchClient(config.elasticsearch);
const metrics = config.metrics ? new ApiMetrics() : undefined;
const store = new EventStore(client, config.index_prefix, config.elasticsearch.request_timeout_ms, metrics);
const app = createApp({ store, tokens: config.tokens, logger, corsOrigins: config.cors.origins, metrics, insights: config.insights });
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
  await client.close();
  logger.info('stopped');
  logger.flush();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
