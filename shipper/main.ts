// `node shipper/main.ts --config shipper.json` (or flags, see shipper/README.md): follows the proxy's
// access log and indexes it into Elasticsearch, and delivers it to each configured SIEM output
// (each on its own reader and checkpoint), until SIGTERM/SIGINT, then flushes, checkpoints and
// exits 0. A bad configuration exits 1 with a message naming the key; if any of them fails, all stop.

import pino from 'pino';
import { loadOrExit } from '../common/config.ts';
import { listenerPort, serveMetrics } from '../common/metrics-listener.ts';
import { createStorage } from '../common/storage/create.ts';
import { EngineMismatchError } from '../common/search-engine.ts';
import { STATE_UNWRITABLE_EXIT_CODE, StateWriteError } from './checkpoint.ts';
import { loadConfig } from './config.ts';
import { GeoDatabaseError, useGeoDatabase } from './geo.ts';
import { OutputPipeline } from './outputs/pipeline.ts';
import { Shipper } from './shipper.ts';

const log = pino({ base: { name: 'shipper' } }, pino.destination({ fd: 2, sync: true }));

const config = loadOrExit('shipper', () => loadConfig(process.argv.slice(2)));
if (config.geo.database_file) {
  try {
    log.info({ geo_database: useGeoDatabase(config.geo.database_file) }, 'geo database loaded');
  } catch (error) {
    if (!(error instanceof GeoDatabaseError)) throw error;
    process.stderr.write(`shipper: geo.database_file: ${error.message}\n`);
    process.exit(1);
  }
}

const storage = createStorage(config.elasticsearch);
const shipper = new Shipper(config, storage, log);
const outputs = config.outputs.map((output) => new OutputPipeline(config, output, log.child({ output: output.name })));
for (const output of outputs) shipper.metrics.addOutput(output.name, output.metrics);
const stopAll = () => {
  shipper.stop();
  for (const output of outputs) output.stop();
};
const reportMetrics = () => log.info({ metrics: shipper.metrics.snapshot() }, 'metrics');
const metricsTimer = setInterval(reportMetrics, config.metrics.interval_ms).unref();
const prometheus = config.metrics.port === undefined ? undefined : await serveMetrics(shipper.metrics.registry(), config.metrics.host, config.metrics.port);
if (prometheus) log.info({ metrics_url: `http://${config.metrics.host}:${listenerPort(prometheus)}/metrics` }, 'prometheus metrics served');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    log.info({ signal }, 'stopping: flushing and checkpointing');
    stopAll();
  });
}

log.info(
  { logs: config.logs, state: config.state, engine: storage.engine, elasticsearch: config.elasticsearch.url, index_prefix: config.index_prefix, outputs: outputs.map((output) => output.name) },
  'shipper started',
);
const runs = [shipper.run(), ...outputs.map((output) => output.run())].map((run) =>
  run.catch((error: unknown) => {
    stopAll();
    throw error;
  }),
);
const failed = (await Promise.allSettled(runs)).find((result) => result.status === 'rejected');
let exitCode = 0;
if (failed) {
  const error: unknown = failed.reason;
  if (error instanceof EngineMismatchError) {
    log.fatal({ code: error.code }, error.message);
    process.stderr.write(`shipper: ${error.message}\n`);
    exitCode = 1;
  } else if (error instanceof StateWriteError) {
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
await storage.close();
process.exit(exitCode);
