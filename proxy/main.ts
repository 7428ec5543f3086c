// `node proxy/main.ts --config <file>`: starts the reverse proxy. Diagnostics go to stderr as JSON
// (pino); the access log goes only to its files. SIGTERM/SIGINT stop it gracefully, exit 0;
// SIGHUP reloads the configuration file. With `workers` above 1 this process is the primary of
// that many workers (proxy/workers.ts), each of which runs this file too.

import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadOrExit } from '../common/config.ts';
import { loadConfig } from './config.ts';
import { isPrimaryOfWorkers, joinPrimary, runPrimary, workerNumber } from './workers.ts';

const worker = workerNumber();
const diagnostics = pino({ base: worker === undefined ? { process: 'proxy' } : { process: 'proxy', worker } }, pino.destination({ dest: 2, sync: true }));

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: node proxy/main.ts --config <file>\n`);
  process.exit(1);
}

let configFile: string | undefined;
try {
  configFile = parseArgs({ options: { config: { type: 'string' } } }).values.config;
} catch (error) {
  usage((error as Error).message);
}
if (configFile === undefined) usage('missing --config');

const config = loadOrExit('proxy', () => loadConfig(configFile));

if (isPrimaryOfWorkers(config)) await runPrimary(config, diagnostics);
else await serve();

async function serve(): Promise<void> {
  const joined = worker === undefined ? undefined : await joinPrimary(config, diagnostics);
  // Loaded after the configuration is known to be good, so a bad file fails fast.
  const { startProxy } = await import('./server.ts');
  const { ConfigReloader } = await import('./reload.ts');
  const proxy = await startProxy(config, diagnostics, undefined, joined?.seat).catch((error: Error) => {
    diagnostics.fatal({ err: error }, 'proxy failed to start');
    process.exit(1);
  });
  const reloader = new ConfigReloader(configFile!, proxy, diagnostics, config.watch_config);
  let stopping = false;
  const reload = () => {
    if (!stopping) reloader.reload('SIGHUP');
  };
  // Kept during the stop too: SIGHUP's default action would end the process at once.
  process.on('SIGHUP', reload);

  const shutdown = (signal: NodeJS.Signals | 'primary') => {
    if (stopping) return;
    diagnostics.info({ signal }, 'stopping');
    stopping = true;
    reloader.close();
    proxy.stop().then(
      () => {
        diagnostics.info('stopped');
        process.exit(0);
      },
      (error: Error) => {
        diagnostics.error({ err: error }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  if (joined) {
    joined.connect({ stop: () => shutdown('primary'), reload, report: () => proxy.report() }, proxy.port);
    diagnostics.info({ proxy: config.proxy_id, port: proxy.port }, 'worker serving');
  } else {
    diagnostics.info({ proxy: config.proxy_id, host: config.listen.host, port: proxy.port, status_port: proxy.statusPort, access_log: config.access_log.enabled ? config.access_log.dir : false }, 'proxy listening');
  }
}
