// The fault scenario on a local secured cluster: 2 proxies under steady load, each followed by its
// own shipper (its least-privilege key, the CA, every node's URL), the API (its key) queried
// continuously; then the faults, one after another with a quiet gap between them: a data node
// killed (SIGKILL) and started again, the elected master killed and started again, the whole
// cluster stopped and started again. At the end every written line is looked for by request id.
// `npm run bench:cluster` runs it at full length; a test runs a short version of the same code.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@elastic/elasticsearch';
import { generateToken, hashToken } from '../../../api/tokens.ts';
import { createElasticsearchClient, type ElasticsearchConnection } from '../../../common/elasticsearch-connection.ts';
import { indexPattern } from '../../../common/proxy-event-document.ts';
import { setupAccess, type Part } from '../../elasticsearch/access.ts';
import type { ClusterNode, LocalCluster } from '../../elasticsearch/local-cluster.ts';
import { freePort } from '../../free-port.ts';
import { Supervisor } from '../../stack/supervisor.ts';
import { percentile } from '../api/queries.ts';
import { indexedIds, reckon, writtenIds, type Reckoning } from './audit.ts';
import { FreshnessProbe, probeApi, probeCount, type ApiAnswer, type CountSample, type FreshnessSample } from './probes.ts';
import { startTraffic, startUpstream } from './traffic.ts';

const root = new URL('../../../', import.meta.url).pathname;
const PROXIES = 2;
const HOST = 'cluster.bench';
const API_CLIENTS = 2;
/** How long the parts wait for one Elasticsearch request: a node that is gone is left at once anyway. */
const PART_REQUEST_TIMEOUT_MS = 10_000;
/** The shippers' backoff cap: after an outage they are back within this of the cluster. */
const SHIPPER_MAX_RETRY_DELAY_MS = 2_000;
const FRESHNESS_SAMPLE_MS = 1_000;
const KEYS_ACCEPTED_WITHIN_MS = 300_000;
/** The API's error code for an unavailable cluster: what every answer during a full stop must carry. */
export const UNAVAILABLE_CODE = 'API_ELASTICSEARCH_UNAVAILABLE';

export type FaultKind = 'data node killed' | 'master killed' | 'cluster stopped';

/** A killed node left down until the whole cluster is stopped and started again (the short scenario's way to skip one node start). */
export const UNTIL_CLUSTER_STOPS = 'until the cluster stops';

export interface Fault {
  kind: FaultKind;
  /**
   * How long the node (or the cluster) stays down before it is started again; a killed node
   * `UNTIL_CLUSTER_STOPS` is started with the others by the next 'cluster stopped'.
   */
  downSeconds: number | typeof UNTIL_CLUSTER_STOPS;
}

export interface ScenarioOptions {
  cluster: LocalCluster;
  /** Where the parts' configs, logs and state go. */
  dir: string;
  /** Requests a second through each proxy. */
  rate: number;
  warmupSeconds: number;
  faults: Fault[];
  /** Steady load between two faults, and after the last. */
  gapSeconds: number;
  /** How long, after the load stops, the shippers may take to deliver every line. */
  drainTimeoutMs: number;
  log: (line: string) => void;
  /** Aborted on Ctrl-C: the proxies, shippers and API are stopped at once, not left running. */
  signal?: AbortSignal;
}

/**
 * From the fault until the cluster has all its nodes again (all but the one left down) with every
 * primary active, and, after
 * a full stop, accepts the parts' API keys again (a restarted secured cluster refuses them until
 * its security index is back); ms since the epoch.
 */
export interface FaultWindow {
  kind: FaultKind;
  node?: string;
  start: number;
  end: number;
}

export interface ScenarioResult extends Reckoning {
  started: number;
  finished: number;
  rate: number;
  windows: FaultWindow[];
  /** Share of API answers that were 200, outside the full-cluster stop, in percent. */
  apiOkPercent: number;
  apiP95Ms: number;
  apiAnswers: number;
  /**
   * Answers during the full stop, and those among them that were neither a 200 (a request that
   * overlapped the stop's edges) nor a 503 naming the unavailable cluster.
   */
  duringStop: { answers: number; other: ApiAnswer[] };
  /** Every answer that was not a 200, outside the stop, by status and code. */
  apiFailures: Record<string, number>;
  freshnessP95Ms: number;
  freshnessSamples: number;
  freshnessP95AllMs: number;
  counts: CountSample[];
  answers: ApiAnswer[];
  /** Every freshness sample, in or out of a window, for the timeline. */
  freshness: FreshnessSample[];
}

const overlaps = (start: number, end: number, window: FaultWindow) => start <= window.end && end >= window.start;

async function masterName(admin: Client): Promise<string> {
  const [master] = await admin.cat.master({ format: 'json' });
  return String(master!.node);
}

/** A node that holds a copy of the prefix's shards and is not the master: losing it matters to the data only. */
async function dataNodeVictim(admin: Client, cluster: LocalCluster, prefix: string): Promise<ClusterNode> {
  const master = await masterName(admin);
  const shards = await admin.cat.shards({ index: indexPattern(prefix), format: 'json', h: 'node' });
  const holders = new Set(shards.map((shard) => shard.node));
  const candidates = cluster.nodes.filter((node) => node.name !== master);
  return candidates.find((node) => holders.has(node.name)) ?? candidates[0]!;
}

export async function runClusterScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const { cluster, log } = options;
  const base: ElasticsearchConnection = {
    url: cluster.nodes[0]!.url,
    nodes: cluster.nodes.slice(1).map((node) => node.url),
    ca_file: cluster.caFile,
    request_timeout_ms: PART_REQUEST_TIMEOUT_MS,
  };
  const admin = createElasticsearchClient({ ...base, ...cluster.superuser, request_timeout_ms: 30_000 });
  const prefix = `cluster-bench-${Date.now().toString(36)}`;
  const keys = Object.fromEntries((await setupAccess(admin, prefix)).map(({ part, apiKey }) => [part, apiKey])) as Record<Part, string>;
  const upstream = await startUpstream();
  const parts = new Supervisor(['api', 'shipper-1', 'shipper-2'], options.dir);
  const proxies = new Supervisor(['proxy-1', 'proxy-2'], options.dir);
  const stopProcesses = () => void Promise.all([proxies.stopAll(), parts.stopAll()]);
  options.signal?.addEventListener('abort', stopProcesses, { once: true });
  const writeConfig = async (name: string, config: object) => {
    const file = join(options.dir, `${name}.json`);
    await writeFile(file, JSON.stringify(config, null, 2));
    return file;
  };
  const token = generateToken();
  const apiUrl = `http://127.0.0.1:${await freePort()}`;
  const stopProbes = new AbortController();
  let traffic: ReturnType<typeof startTraffic> | undefined;
  const clients: Client[] = [admin];
  try {
    await mkdir(options.dir, { recursive: true });
    const apiConfig = await writeConfig('api', {
      listen: { host: '127.0.0.1', port: Number(new URL(apiUrl).port) },
      elasticsearch: { ...base, api_key: keys.api },
      index_prefix: prefix,
      tokens: [{ name: 'bench', sha256: hashToken(token) }],
      log_level: 'warn',
    });
    // Each kind of part starts at once (the shippers before the proxies whose files they follow).
    const api = parts.start('api', join(root, 'api/main.ts'), ['--config', apiConfig], `${apiUrl}/healthz`);
    const logDirs: string[] = [];
    const proxyUrls: string[] = [];
    const shippers: Promise<void>[] = [];
    const proxyStarts: (() => Promise<void>)[] = [];
    for (let i = 1; i <= PROXIES; i++) {
      const logs = join(options.dir, `proxy-${i}-logs`);
      logDirs.push(logs);
      const metricsPort = await freePort();
      const shipperConfig = await writeConfig(`shipper-${i}`, {
        logs,
        state: join(options.dir, `shipper-${i}-state`),
        index_prefix: prefix,
        elasticsearch: { ...base, api_key: keys.shipper },
        retry: { max_delay_ms: SHIPPER_MAX_RETRY_DELAY_MS },
        metrics: { port: metricsPort },
      });
      shippers.push(parts.start(`shipper-${i}`, join(root, 'shipper/main.ts'), ['--config', shipperConfig], `http://127.0.0.1:${metricsPort}/metrics`));
      const port = await freePort();
      const proxyConfig = await writeConfig(`proxy-${i}`, {
        proxy_id: `cluster-proxy-${i}`,
        workers: 1,
        listen: { host: '127.0.0.1', port },
        access_log: { dir: logs },
        services: [{ id: 'bench', hosts: [HOST], upstream: upstream.url, auth: { method: 'none' } }],
      });
      const proxyUrl = `http://127.0.0.1:${port}`;
      proxyUrls.push(proxyUrl);
      proxyStarts.push(() => proxies.start(`proxy-${i}`, join(root, 'proxy/main.ts'), ['--config', proxyConfig], `${proxyUrl}/`));
    }
    await Promise.all([api, ...shippers]);
    await Promise.all(proxyStarts.map((start) => start()));

    const keyed = createElasticsearchClient({ ...base, api_key: keys.api });
    clients.push(keyed);
    const started = Date.now();
    const freshness = new FreshnessProbe(admin, prefix, stopProbes.signal);
    const counting = probeCount(admin, prefix, stopProbes.signal);
    const asking = probeApi(apiUrl, token, API_CLIENTS, stopProbes.signal);
    traffic = startTraffic({ proxyUrls, host: HOST, rate: options.rate, sampleEveryMs: FRESHNESS_SAMPLE_MS, onSample: (id) => freshness.add(id) });
    log(`load: ${PROXIES} proxies × ${options.rate} req/s; API queried by ${API_CLIENTS} clients; warming up ${options.warmupSeconds} s`);
    await sleep(options.warmupSeconds * 1_000);

    const windows: FaultWindow[] = [];
    for (const fault of options.faults) {
      const window = await inject(fault, cluster, admin, prefix, keyed, log);
      windows.push(window);
      log(`${fault.kind}${window.node ? ` (${window.node})` : ''}: back after ${((window.end - window.start) / 1000).toFixed(1)} s`);
      await sleep(options.gapSeconds * 1_000);
    }

    const load = await traffic.stop();
    traffic = undefined;
    await proxies.stopAll();
    const written = (await Promise.all(logDirs.map(writtenIds))).flat();
    log(`load stopped: ${load.sent} requests sent, ${load.failed} not answered 200, ${load.skipped} skipped; ${written.length} lines written; waiting for the shippers`);
    const drainDeadline = Date.now() + options.drainTimeoutMs;
    while (Date.now() < drainDeadline) {
      const count = await admin.count({ index: indexPattern(prefix) }).then((r) => r.count, () => 0);
      if (count >= written.length) break;
      await sleep(500);
    }
    const pendingWait = Date.now() + 5_000;
    while (freshness.pending > 0 && Date.now() < pendingWait) await sleep(100);
    stopProbes.abort();
    const [counts, answers] = await Promise.all([counting, asking, freshness.finished()]);
    const finished = Date.now();
    await admin.indices.refresh({ index: indexPattern(prefix) });
    const reckoning = reckon(written, await indexedIds(admin, prefix));

    const stops = windows.filter((window) => window.kind === 'cluster stopped');
    const inStop = (answer: ApiAnswer) => stops.some((window) => overlaps(answer.at, answer.at + answer.ms, window));
    const outside = answers.filter((answer) => !inStop(answer));
    const during = answers.filter(inStop);
    const apiFailures: Record<string, number> = {};
    for (const answer of outside.filter((a) => a.status !== 200)) {
      const key = `${answer.status} ${answer.error ?? answer.message ?? ''}`.trim();
      apiFailures[key] = (apiFailures[key] ?? 0) + 1;
    }
    // Lines of the warm-up are left out: the daily index is being created and the shippers started.
    const measuredFrom = started + options.warmupSeconds * 1_000;
    const quiet = freshness.samples.filter((sample) => sample.lineAt >= measuredFrom && !windows.some((window) => overlaps(sample.lineAt, sample.searchableAt, window)));
    const sorted = (values: number[]) => values.sort((a, b) => a - b);
    return {
      ...reckoning,
      started,
      finished,
      rate: options.rate,
      windows,
      apiOkPercent: outside.length === 0 ? 0 : (100 * outside.filter((a) => a.status === 200).length) / outside.length,
      apiP95Ms: outside.length === 0 ? 0 : percentile(sorted(outside.map((a) => a.ms)), 95),
      apiAnswers: answers.length,
      duringStop: { answers: during.length, other: during.filter((a) => a.status !== 200 && (a.status !== 503 || a.error !== UNAVAILABLE_CODE)) },
      apiFailures,
      freshnessP95Ms: quiet.length === 0 ? 0 : percentile(sorted(quiet.map((s) => s.searchableAt - s.lineAt)), 95),
      freshnessSamples: quiet.length,
      freshnessP95AllMs: freshness.samples.length === 0 ? 0 : percentile(sorted(freshness.samples.map((s) => s.searchableAt - s.lineAt)), 95),
      counts,
      answers,
      freshness: freshness.samples,
    };
  } finally {
    options.signal?.removeEventListener('abort', stopProcesses);
    stopProbes.abort();
    await traffic?.stop();
    await proxies.stopAll();
    await parts.stopAll();
    await upstream.close();
    await Promise.all(clients.map((client) => client.close()));
  }
}

/** Resolves once a request authenticated by an API key (`keyed`) is answered again. */
async function acceptsKeys(keyed: Client, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await keyed.cluster.health().then(() => true, () => false))) {
    if (Date.now() > deadline) throw new Error(`the cluster did not accept API keys within ${timeoutMs} ms of its start`);
    await sleep(200);
  }
}

async function inject(fault: Fault, cluster: LocalCluster, admin: Client, prefix: string, keyed: Client, log: (line: string) => void): Promise<FaultWindow> {
  const down = () => sleep(Number(fault.downSeconds) * 1_000);
  const everyNode = cluster.nodes.length;
  if (fault.kind === 'cluster stopped') {
    log(`stopping the whole cluster for ${fault.downSeconds} s`);
    const start = Date.now();
    await Promise.all(cluster.nodes.map((node) => node.stop()));
    await down();
    for (const node of cluster.nodes) node.start();
    await cluster.waitForNodes(everyNode);
    await acceptsKeys(keyed, KEYS_ACCEPTED_WITHIN_MS);
    return { kind: fault.kind, start, end: Date.now() };
  }
  const victim = fault.kind === 'master killed' ? nodeNamed(cluster, await masterName(admin)) : await dataNodeVictim(admin, cluster, prefix);
  const start = Date.now();
  if (fault.downSeconds === UNTIL_CLUSTER_STOPS) {
    log(`${fault.kind}: SIGKILL to ${victim.name}, left down ${UNTIL_CLUSTER_STOPS}`);
    await victim.kill();
    // The others have removed it and promoted its shards' other copies.
    await cluster.waitForNodes(everyNode - 1);
    return { kind: fault.kind, node: victim.name, start, end: Date.now() };
  }
  log(`${fault.kind}: SIGKILL to ${victim.name}, started again after ${fault.downSeconds} s`);
  await victim.kill();
  await down();
  victim.start();
  await cluster.waitForNodes(everyNode);
  return { kind: fault.kind, node: victim.name, start, end: Date.now() };
}

function nodeNamed(cluster: LocalCluster, name: string): ClusterNode {
  const node = cluster.nodes.find((candidate) => candidate.name === name);
  if (!node) throw new Error(`the master ${name} is not one of this cluster's nodes`);
  return node;
}
