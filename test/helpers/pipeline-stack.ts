// The whole pipeline as the README runs it, for end-to-end suites: the demo upstream, the API, the
// shipper and the proxy, each its own process from a config file written here, on free ports, all
// reading and writing one suite's Elasticsearch prefix. The suite says which services the proxy has.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashToken } from '../../api/tokens.ts';
import { freePort } from '../../ops/free-port.ts';
import { Supervisor } from '../../ops/stack/supervisor.ts';
import type { TestElasticsearch } from './elasticsearch.ts';

const REPO = join(import.meta.dirname, '..', '..');

export interface StackPorts {
  proxyPort: number;
  /** The demo upstream's URL. */
  upstream: string;
  /** A port nothing listens on: an upstream that refuses. */
  deadPort: number;
}

export interface PipelineStack {
  proxyUrl: string;
  apiUrl: string;
  supervisor: Supervisor;
}

/** Starts the four processes; `services` makes the proxy's services once the ports are known. */
export async function startPipeline(options: {
  es: TestElasticsearch;
  dir: string;
  token: string;
  proxyId: string;
  services: (ports: StackPorts) => Promise<unknown[]>;
}): Promise<PipelineStack> {
  const { es, dir } = options;
  const [proxyPort, apiPort, upstreamPort, metricsPort, deadPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const upstream = `http://127.0.0.1:${upstreamPort}`;
  const config = async (name: string, value: unknown) => {
    const file = join(dir, `${name}.json`);
    await writeFile(file, JSON.stringify(value));
    return file;
  };
  const proxyConfig = await config('proxy', {
    proxy_id: options.proxyId,
    listen: { host: '127.0.0.1', port: proxyPort },
    trusted_proxies: ['127.0.0.1/32'],
    access_log: { dir: join(dir, 'logs') },
    services: await options.services({ proxyPort, upstream, deadPort }),
  });
  const shipperConfig = await config('shipper', {
    logs: join(dir, 'logs'),
    state: join(dir, 'state'),
    elasticsearch: es.connection,
    index_prefix: es.prefix,
    batch: { flush_interval_ms: 200 },
    poll_interval_ms: 200,
    metrics: { port: metricsPort },
  });
  const apiConfig = await config('api', {
    listen: { host: '127.0.0.1', port: apiPort },
    elasticsearch: es.connection,
    index_prefix: es.prefix,
    tokens: [{ name: 'e2e', sha256: hashToken(options.token) }],
    log_level: 'warn',
  });
  const supervisor = new Supervisor(['upstream', 'api', 'shipper', 'proxy'], dir);
  await supervisor.start('upstream', join(REPO, 'ops/stack/demo-upstream.ts'), ['--port', String(upstreamPort)], `${upstream}/`);
  await supervisor.start('api', join(REPO, 'api/main.ts'), ['--config', apiConfig], `${apiUrl}/healthz`);
  await supervisor.start('shipper', join(REPO, 'shipper/main.ts'), ['--config', shipperConfig], `http://127.0.0.1:${metricsPort}/metrics`);
  await supervisor.start('proxy', join(REPO, 'proxy/main.ts'), ['--config', proxyConfig], `${proxyUrl}/`);
  return { proxyUrl, apiUrl, supervisor };
}
