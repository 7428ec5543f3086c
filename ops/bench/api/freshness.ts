// `node ops/bench/api/freshness.ts [--requests N]`: how long from a request through the proxy until
// the API returns it. Runs the real processes (proxy, shipper, API, each with its example
// configuration's timings) against ELASTICSEARCH_URL or a local node it starts, sends N requests
// (default 100, ten a second) with unique paths, polls the API every 50 ms and reports p50/p95/max.
// Target: p95 ≤ 2 s.

import { createServer } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { connectionFromEnv, createElasticsearchClient } from '../../../common/elasticsearch-connection.ts';
import { indexPattern, indexTemplateName } from '../../../common/proxy-event-document.ts';
import { generateToken, hashToken } from '../../../api/tokens.ts';
import { startLocalNode } from '../../elasticsearch/local-node.ts';
import { freePort } from '../../free-port.ts';
import { Supervisor } from '../../stack/supervisor.ts';
import { percentile } from './queries.ts';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '100' } } });
const REQUESTS = Number(values.requests);
const SPACING_MS = 100;
const POLL_MS = 50;
const GIVE_UP_MS = 30_000;
const HOST = 'open.localhost';
const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const node = connectionFromEnv() ? undefined : await startLocalNode({ log });
const esUrl = connectionFromEnv()?.url ?? node!.url;
const dir = await mkdtemp(join(tmpdir(), 'freshness-'));
const prefix = `bench-fresh-${Date.now().toString(36)}`;
const [proxyPort, apiPort] = [await freePort(), await freePort()];
const token = generateToken();
const upstream = createServer((_req, res) => res.end('ok'));
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const upstreamPort = (upstream.address() as { port: number }).port;

const supervisor = new Supervisor(['api', 'shipper', 'proxy'], dir);

/** Starts a part from a config file like an operator would; waits for `readyUrl` when given. */
async function start(name: string, script: string, config: object, readyUrl?: string): Promise<void> {
  const file = join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(config));
  await supervisor.start(name, script, ['--config', file], readyUrl);
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + GIVE_UP_MS;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(POLL_MS);
  }
  throw new Error(`${what} not ready within ${GIVE_UP_MS} ms`);
}

const api = `http://127.0.0.1:${apiPort}`;
async function found(pathPart: string): Promise<{ path: string }[]> {
  const url = `${api}/api/events/proxy?${new URLSearchParams({ path: pathPart, page_size: '100' })}`;
  const response = await request(url, { headers: { authorization: `Bearer ${token}` } });
  const body = (await response.body.json()) as { data?: { path: string }[] };
  return body.data ?? [];
}

function send(path: string) {
  return request(`http://127.0.0.1:${proxyPort}${path}`, { headers: { host: HOST } }).then((r) => r.body.dump());
}

try {
  await start('api', 'api/main.ts', {
    listen: { host: '127.0.0.1', port: apiPort },
    elasticsearch: { url: esUrl },
    index_prefix: prefix,
    tokens: [{ name: 'bench', sha256: hashToken(token) }],
    log_level: 'warn',
  }, `${api}/healthz`);
  await start('shipper', 'shipper/main.ts', { logs: join(dir, 'logs'), state: join(dir, 'state'), index_prefix: prefix, elasticsearch: { url: esUrl } });
  await start('proxy', 'proxy/main.ts', {
    proxy_id: 'fresh-proxy',
    workers: 1,
    listen: { host: '127.0.0.1', port: proxyPort },
    access_log: { dir: join(dir, 'logs') },
    services: [{ id: 'open', hosts: [HOST], upstream: `http://127.0.0.1:${upstreamPort}`, auth: { method: 'none' } }],
  }, `http://127.0.0.1:${proxyPort}/`);
  // The first line creates today's index; measure the steady state after it.
  await send('/fresh/warm-up');
  await until('first event', async () => (await found('/fresh/warm-up')).length > 0);

  const run = Date.now().toString(36);
  const sentAt = new Map<string, number>();
  const latencies = new Map<string, number>();
  let sending = true;
  const sender = (async () => {
    for (let i = 0; i < REQUESTS; i++) {
      const path = `/fresh/${run}-${i}`;
      sentAt.set(path, Date.now());
      void send(path);
      await sleep(SPACING_MS);
    }
    sending = false;
  })();
  const deadline = Date.now() + REQUESTS * SPACING_MS + GIVE_UP_MS;
  while ((sending || latencies.size < REQUESTS) && Date.now() < deadline) {
    const now = Date.now();
    for (const { path } of await found(`/fresh/${run}-`)) {
      if (!latencies.has(path) && sentAt.has(path)) latencies.set(path, now - sentAt.get(path)!);
    }
    await sleep(POLL_MS);
  }
  await sender;
  const sorted = [...latencies.values()].sort((a, b) => a - b);
  const p95 = percentile(sorted, 95);
  console.log(`\nFreshness: ${REQUESTS} requests through the proxy (${1000 / SPACING_MS}/s), API polled every ${POLL_MS} ms; shipper and Elasticsearch at their defaults (1 s batch flush, 1 s refresh)`);
  console.log(`found ${latencies.size} of ${REQUESTS}; p50 ${percentile(sorted, 50)} ms, p95 ${p95} ms, max ${sorted.at(-1)} ms — target p95 ≤ 2000 ms: ${p95 <= 2000 && latencies.size === REQUESTS ? 'met' : 'MISSED'}`);
} finally {
  await supervisor.stopAll();
  upstream.close();
  const client = createElasticsearchClient({ url: esUrl, request_timeout_ms: 60_000 });
  await client.indices.delete({ index: indexPattern(prefix), ignore_unavailable: true, allow_no_indices: true }).catch(() => undefined);
  await client.indices.deleteIndexTemplate({ name: indexTemplateName(prefix) }, { ignore: [404] }).catch(() => undefined);
  await client.close();
  await rm(dir, { recursive: true, force: true });
  await node?.stop();
}
