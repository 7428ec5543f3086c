// How every process reaches its cluster: the engine (Elasticsearch or OpenSearch), one URL (and
// optionally the cluster's other nodes) plus optional credentials and CA, from a config section or
// from ELASTICSEARCH_* environment variables. Reads and writes go through common/storage/.

import { readFileSync } from 'node:fs';
import { Client, ClusterConnectionPool, type ClientOptions } from '@elastic/elasticsearch';
import { z } from 'zod';
import { validateConfig } from './config.ts';
import { ENGINES } from './search-engine.ts';

const httpUrl = z.url({ protocol: /^https?$/ });

export const elasticsearchConnectionSchema = z
  .object({
    /** Which engine the cluster is (absent: elasticsearch, `engineOf`); checked against its `GET /` at start. */
    engine: z.enum(ENGINES).optional(),
    url: httpUrl,
    /**
     * The cluster's other nodes: requests are spread over `url` and these, and one that meets an
     * unreachable node (or a 502/503/504) is sent again to the next, so losing a node is no outage.
     */
    nodes: z.array(httpUrl).min(1).optional(),
    api_key: z.string().min(1).optional(),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    ca_file: z.string().min(1).optional(),
    request_timeout_ms: z.number().int().positive().default(10_000),
  })
  .strict()
  .refine((c) => (c.username === undefined) === (c.password === undefined), {
    message: 'username and password go together',
    path: ['password'],
  })
  // OpenSearch has no Elasticsearch API keys: its security plugin takes users (or a proxy in front).
  .refine((c) => c.engine !== 'opensearch' || c.api_key === undefined, {
    message: 'OpenSearch takes username and password, not an Elasticsearch API key',
    path: ['api_key'],
  });

export type ElasticsearchConnection = z.infer<typeof elasticsearchConnectionSchema>;

/** Where operators name their cluster: ELASTICSEARCH_URL and friends. */
export const CONNECTION_ENV_PREFIX = 'ELASTICSEARCH_';

/** The variable of each connection key after a prefix: `ELASTICSEARCH_URL`, `ELASTICSEARCH_API_KEY`, … */
const CONNECTION_ENV_KEYS = { engine: 'ENGINE', url: 'URL', nodes: 'NODES', api_key: 'API_KEY', username: 'USERNAME', password: 'PASSWORD', ca_file: 'CA_FILE' } as const;
/** `<prefix>NODES` lists the other nodes' URLs separated by commas. */
const LIST_SEPARATOR = ',';

/**
 * The connection described by `<prefix>URL` and friends, or undefined when no URL is set; a bad
 * value is a ConfigError naming its `elasticsearch.*` key and `source`.
 */
export function connectionFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  source = `${CONNECTION_ENV_PREFIX}* environment`,
  prefix = CONNECTION_ENV_PREFIX,
): ElasticsearchConnection | undefined {
  if (!env[`${prefix}${CONNECTION_ENV_KEYS.url}`]) return undefined;
  const raw: Record<string, unknown> = Object.fromEntries(Object.entries(CONNECTION_ENV_KEYS).map(([key, name]) => [key, env[`${prefix}${name}`] || undefined]));
  if (typeof raw.nodes === 'string') raw.nodes = raw.nodes.split(LIST_SEPARATOR).map((url) => url.trim());
  return validateConfig(elasticsearchConnectionSchema, raw, source, ['elasticsearch']);
}

/** The variables that describe `connection` to a process that reads them with `prefix`: connectionFromEnv's inverse. */
export function connectionEnv(connection: ElasticsearchConnection, prefix = CONNECTION_ENV_PREFIX): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, name] of Object.entries(CONNECTION_ENV_KEYS)) {
    const value = connection[key as keyof typeof CONNECTION_ENV_KEYS];
    if (value !== undefined) env[`${prefix}${name}`] = Array.isArray(value) ? value.join(LIST_SEPARATOR) : value;
  }
  return env;
}

/** `env` without any variable that names a cluster under `prefix`. */
export function withoutConnectionEnv(env: NodeJS.ProcessEnv, prefix = CONNECTION_ENV_PREFIX): NodeJS.ProcessEnv {
  const names = new Set(Object.values(CONNECTION_ENV_KEYS).map((name) => `${prefix}${name}`));
  return Object.fromEntries(Object.entries(env).filter(([name]) => !names.has(name)));
}

export function createElasticsearchClient(
  connection: ElasticsearchConnection,
  overrides: Partial<ClientOptions> = {},
): Client {
  const nodes = [connection.url, ...(connection.nodes ?? [])];
  const options: ClientOptions = {
    nodes,
    requestTimeout: connection.request_timeout_ms,
    // Only onto another node: a connection failure or 502/503/504 is tried once on each of the
    // others (never a timeout, which could double the wait); one node alone is never retried.
    maxRetries: nodes.length - 1,
    // Not the default weighted pool: once every node has failed (a cluster stopped whole), its
    // round-robin weight stays above every node's for hundreds of requests, each refused with "no
    // living connections" while the cluster is back. This pool sends to every node while all are
    // dead, and pings a dead one back in while the others serve.
    ConnectionPool: ClusterConnectionPool,
    ...overrides,
  };
  if (connection.api_key) options.auth = { apiKey: connection.api_key };
  else if (connection.username && connection.password) {
    options.auth = { username: connection.username, password: connection.password };
  }
  if (connection.ca_file) options.tls = { ca: readFileSync(connection.ca_file) };
  return new Client(options);
}
