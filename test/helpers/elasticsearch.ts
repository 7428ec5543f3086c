// The Elasticsearch every suite shares: the node test/run.ts started, or the cluster named by
// TEST_ELASTICSEARCH_URL (with _API_KEY, _USERNAME/_PASSWORD, _CA_FILE), never the one named by the
// operator's ELASTICSEARCH_*. TEST_ENGINE=opensearch makes it an OpenSearch node (or says the named
// cluster is one). Each suite works under an index prefix of its own, so suites never see each
// other's documents and a shared test cluster keeps everything else.

import { randomBytes } from 'node:crypto';
import type { Client } from '@elastic/elasticsearch';
import {
  connectionEnv,
  connectionFromEnv,
  createElasticsearchClient,
  withoutConnectionEnv,
  type ElasticsearchConnection,
} from '../../common/elasticsearch-connection.ts';
import { auditIndexPattern, auditIndexTemplateName } from '../../common/api-audit-document.ts';
import { ConfigError } from '../../common/errors.ts';
import { ENGINES, isEngine, type Engine } from '../../common/search-engine.ts';
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

export function testConnection(): ElasticsearchConnection {
  const connection = configuredTestConnection();
  if (!connection) throw new Error(`${TEST_CONNECTION_ENV_PREFIX}URL is not set: run the suites through \`npm test\` (test/run.ts)`);
  return connection;
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
  client: Client;
  /** A fresh index prefix for this suite, e.g. `t-shipper-3fa9c1`. */
  prefix: string;
  /** Deletes the suite's indices (events, trail and the API's audit log) and templates. */
  cleanup(): Promise<void>;
}

export function testElasticsearch(suite: string): TestElasticsearch {
  const connection = testConnection();
  const client = createElasticsearchClient(connection);
  const prefix = `t-${suite}-${randomBytes(3).toString('hex')}`.toLowerCase();
  return {
    connection,
    client,
    prefix,
    async cleanup() {
      await client.indices.delete({ index: [indexPattern(prefix), indexPattern(trailIndexPrefix(prefix)), auditIndexPattern(prefix)], ignore_unavailable: true, allow_no_indices: true });
      await client.indices.deleteIndexTemplate({ name: indexTemplateName(prefix) }, { ignore: [404] });
      await client.indices.deleteIndexTemplate({ name: auditIndexTemplateName(prefix) }, { ignore: [404] });
      await client.close();
    },
  };
}
