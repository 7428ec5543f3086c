// `npm run alerts -- --config <api config>`: runs the insights detectors every `alerts.interval_seconds`
// and POSTs each new finding, signed, to every configured webhook. Logs (pino, JSON) go to stderr.
// SIGTERM or SIGINT: the run in progress is aborted, the state file keeps what was sent, exit 0.

import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { invalidConfig, loadOrExit, readSecretFile } from '../../common/config.ts';
import { createStorage } from '../../common/storage/create.ts';
import { engineMismatchOnceReachable } from '../../common/storage/engine.ts';
import { ElasticsearchUnavailableError } from '../errors.ts';
import { loadConfig } from '../config.ts';
import { EventStore } from '../event-store.ts';
import { AlertStateError } from './errors.ts';
import { runPass } from './pass.ts';
import { AlertState } from './state.ts';

const USAGE = 'usage: node api/alerts/main.ts --config <api config file>';

function fail(message: string): never {
  process.stderr.write(`alerts: ${message}\n`);
  process.exit(1);
}

let configFile: string | undefined;
try {
  configFile = parseArgs({ options: { config: { type: 'string' } } }).values.config;
} catch (error) {
  fail(`${(error as Error).message}\n${USAGE}`);
}
if (!configFile) fail(USAGE);
const file = configFile;

const { config, alerts, webhooks } = loadOrExit('alerts', () => {
  const loaded = loadConfig(file);
  if (!loaded.alerts) throw invalidConfig(file, ['alerts: required to run the alerts']);
  const hooks = loaded.alerts.webhooks.map((hook, index) => ({
    name: hook.name,
    url: hook.url,
    secret: readSecretFile(hook.secret_file, ['alerts', 'webhooks', index, 'secret_file'], file),
  }));
  return { config: loaded, alerts: loaded.alerts, webhooks: hooks };
});

const logger = pino({ name: 'alerts', level: config.log_level }, pino.destination(2));
let state: AlertState;
try {
  state = await AlertState.load(alerts.state_file);
} catch (error) {
  if (!(error instanceof AlertStateError)) throw error;
  fail(error.message);
}

const store = new EventStore(createStorage(config.elasticsearch), config.index_prefix, config.elasticsearch.request_timeout_ms);
void engineMismatchOnceReachable(config.elasticsearch).then((mismatch) => {
  if (!mismatch) return;
  logger.fatal({ code: mismatch.code }, mismatch.message);
  logger.flush();
  fail(mismatch.message);
});
const stopping = new AbortController();

async function stop(signal: NodeJS.Signals) {
  if (stopping.signal.aborted) return;
  logger.info({ signal }, 'stopping');
  stopping.abort();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

logger.info({ webhooks: webhooks.map((hook) => hook.name), interval_seconds: alerts.interval_seconds }, 'started');
while (!stopping.signal.aborted) {
  try {
    const result = await runPass({ store, insights: config.insights, alerts, webhooks, state, logger, signal: stopping.signal });
    logger.info(result, 'run done');
  } catch (error) {
    if (stopping.signal.aborted) break;
    if (!(error instanceof ElasticsearchUnavailableError)) throw error;
    logger.warn({ reason: error.reason }, 'Elasticsearch unavailable; trying again on the next run');
  }
  await sleep(alerts.interval_seconds * 1_000, undefined, { signal: stopping.signal }).catch(() => undefined);
}
await store.storage.close();
logger.info('stopped');
logger.flush();
process.exit(0);
