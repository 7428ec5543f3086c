// `node shipper/main.ts --config shipper.json` (or flags, see shipper/README.md): follows the proxy's
// access log and indexes it into Elasticsearch until SIGTERM/SIGINT, then flushes, checkpoints
// and exits 0. A bad configuration exits 1 with a message naming the key.

import pino from 'pino';
import { createElasticsearchClient } from '../common/elasticsearch-connection.ts';
import { loadOrExit } from '../common/config.ts';
import { listenerPort, serveMetrics } from '../common/metrics-listener.ts';
import { STATE_UNWRITABLE_EXIT_CODE, StateWriteError } from './checkpoint.ts';
import { loadConfig } from './config.ts';
import { Shipper } from './shipper.ts';

const log = pino({ base: { name: 'shipper' } }, pino.destination({ fd: 2, sync: true }));

const config = loadOrExit('shipper', () => loadConfig(process.argv.slice(2)));

const client = createElasticsearchClient(config.elasticsearch);
const shipper = new Shipper(config, client, log);
const reportMetrics = () => log.info({ metrics: shipper.metrics.snapshot() }, 'metrics');
const metricsTimer = setInterval(reportMetrics, config.metrics.interval_ms).unref();
const prometheus = config.metrics.port === undefined ? undefined : await serveMetrics(shipper.metrics.registry(), config.metrics.host, config.metrics.port);
if (prometheus) log.info({ metrics_url: `http://${config.metrics.host}:${listenerPort(prometheus)}/metrics` }, 'prometheus metrics served');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    log.info({ signal }, 'stopping: flushing and checkpointing');
    shipper.stop();
  });
}

log.info({ logs: config.logs, state: config.state, elasticsearch: config.elasticsearch.url, index_prefix: config.index_prefix }, 'shipper started');
let exitCode = 0;
try {
  await shipper.run();
} catch (error) {
  if (error instanceof StateWriteError) {
    // An expected condition of the machine: the words and the path say what to fix, a stack would not.
    log.fatal({ code: error.code, path: error.path, cause: error.problem }, `shipper stopped: ${error.message}; nothing after the last saved checkpoint is acknowledged, it is read again at the next start`);
    exitCode = STATE_UNWRITABLE_EXIT_CODE;
  } else {
    log.error({ err: error }, 'shipper failed');
    exitCode = 1;
  }
}
clearInterval(metricsTimer);
reportMetrics();
prometheus?.close();
await client.close();
process.exit(exitCode);
