// The Elasticsearch every suite shares: the node test/run.ts started, or the cluster named by
// TEST_ELASTICSEARCH_URL (with _API_KEY, _USERNAME/_PASSWORD, _CA_FILE), never the one named by the
// operator's ELASTICSEARCH_*. TEST_ENGINE=opensearch makes it an OpenSearch node (or says the named
// cluster is one). Each suite works under an index prefix of its own, so suites never see each
// other's documents and a shared test cluster keeps everything else.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, fetch } from 'undici';
import type { Client } from '@elastic/elasticsearch';
import {
  connectionEnv,
  connectionFromEnv,
  withoutConnectionEnv,
  type ElasticsearchConnection,
} from '../../common/elasticsearch-connection.ts';
import { auditIndexPattern, auditIndexTemplateName } from '../../common/api-audit-document.ts';
import { ElasticsearchStorage } from '../../common/storage/elasticsearch.ts';
import { createStorage } from '../../common/storage/create.ts';
import { engineOf } from '../../common/storage/engine.ts';
import type { Storage } from '../../common/storage/storage.ts';
import { ConfigError } from '../../common/errors.ts';
import { authorization, ENGINES, isEngine, type Engine } from '../../common/search-engine.ts';
import { indexPattern, indexTemplateName, trailIndexPrefix } from '../../common/proxy-event-document.ts';

export const TEST_CONNECTION_ENV_PREFIX = 'TEST_ELASTICSEARCH_';
/** Set by test/run.ts only when it started the node itself: suites that write fixed names run only there. */
export const OWN_NODE_PID_ENV = 'TEST_ELASTICSEARCH_PID';

export const TEST_ENGINE_ENV = 'TEST_ENGINE';

/** The test cluster's engine: what TEST_ENGINE names, Elasticsearch when it names none. */
export function testEngine(env: NodeJS.ProcessEnv = process.env): Engine {
  const engine = env[TEST_ENGINE_ENV] || 'elasticsearch';
  if (!isEngine(engine)) throw new ConfigError(`${TEST_ENGINE_ENV}: one of ${ENGINES.join(', ')}, not "${engine}"`);
  return engine;
}

/** The cluster named by TEST_ELASTICSEARCH_*, or undefined when none is. */
export function configuredTestConnection(env: NodeJS.ProcessEnv = process.env): ElasticsearchConnection | undefined {
  return connectionFromEnv(env, `${TEST_CONNECTION_ENV_PREFIX}* environment`, TEST_CONNECTION_ENV_PREFIX);
}

/** The test cluster, with its engine (TEST_ENGINE) as `engine`, so what a suite starts checks and speaks the right one. */
export function testConnection(): ElasticsearchConnection {
  const connection = configuredTestConnection();
  if (!connection) throw new Error(`${TEST_CONNECTION_ENV_PREFIX}URL is not set: run the suites through \`npm test\` (test/run.ts)`);
  return { ...connection, engine: testEngine() };
}

/** True when the test cluster is the node test/run.ts started for this run, which nobody else uses. */
export function testNodeIsOwn(): boolean {
  return process.env[OWN_NODE_PID_ENV] !== undefined;
}

/**
 * The environment for a process a suite starts: the suite's own, which never names the operator's
 * cluster, plus `connection` as ELASTICSEARCH_* when the process is to reach the test cluster.
 */
export function childEnv(connection?: ElasticsearchConnection, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...withoutConnectionEnv(process.env), ...(connection ? connectionEnv(connection) : {}), ...extra };
}

export interface TestElasticsearch {
  connection: ElasticsearchConnection;
  /** The test cluster through the storage seam: what the suites that run on both engines use. */
  storage: Storage;
  /** Elasticsearch's own client, for the suites that run on Elasticsearch only. */
  client: Client;
  /** A fresh index prefix for this suite, e.g. `t-shipper-3fa9c1`. */
  prefix: string;
  /** Deletes the suite's indices (events, trail and the API's audit log) and templates. */
  cleanup(): Promise<void>;
}

export function testElasticsearch(suite: string): TestElasticsearch {
  const connection = testConnection();
  const storage = createStorage(connection);
  const prefix = `t-${suite}-${randomBytes(3).toString('hex')}`.toLowerCase();
  return {
    connection,
    storage,
    get client() {
      if (!(storage instanceof ElasticsearchStorage)) throw new Error(`this suite runs on Elasticsearch only; the test cluster is ${storage.engine}`);
      return storage.client;
    },
    prefix,
    async cleanup() {
      await storage.deleteIndices([indexPattern(prefix), indexPattern(trailIndexPrefix(prefix)), auditIndexPattern(prefix)]);
      await storage.deleteIndexTemplate(indexTemplateName(prefix));
      await storage.deleteIndexTemplate(auditIndexTemplateName(prefix));
      await storage.close();
    },
  };
}

/**
 * One REST request to the test cluster outside the storage seam, for what only a suite does (an
 * index with a mapping of its own, a block, node statistics): the same path on either engine.
 * Answers the status and the parsed body.
 */
export async function clusterRequest(connection: ElasticsearchConnection, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const dispatcher = new Agent({ connect: connection.ca_file ? { ca: readFileSync(connection.ca_file) } : {} });
  try {
    const auth = authorization(connection);
    const response = await fetch(new URL(path, connection.url), {
      method,
      headers: { ...(auth ? { authorization: auth } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      dispatcher,
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  } finally {
    await dispatcher.close();
  }
}

/**
 * Points in time open on the cluster. Elasticsearch counts each one's shard contexts among the
 * nodes' open search contexts; OpenSearch lists them.
 */
export async function openPointsInTime(connection: ElasticsearchConnection): Promise<number> {
  if (engineOf(connection) === 'opensearch') {
    const { body } = await clusterRequest(connection, 'GET', '/_search/point_in_time/_all');
    return (body?.pits ?? []).length;
  }
  const { body } = await clusterRequest(connection, 'GET', '/_nodes/stats/indices/search');
  return Object.values(body.nodes as Record<string, { indices?: { search?: { open_contexts?: number } } }>).reduce((n, node) => n + (node.indices?.search?.open_contexts ?? 0), 0);
}
