// Which search engine a cluster is, from its answer to `GET /`, and the check every process makes
// at start that it is the engine its configuration names. Elasticsearch marks every answer, a
// refusal included, with `x-elastic-product: Elasticsearch` (so a key without cluster privileges,
// like the shipper's, is still told apart); OpenSearch names itself in `version.distribution`.

import { readFileSync } from 'node:fs';
import { Agent, fetch } from 'undici';
import { ProxyAccessLogError } from '../errors.ts';
import type { ElasticsearchConnection } from '../elasticsearch-connection.ts';

export const ENGINES = ['elasticsearch', 'opensearch'] as const;
export type Engine = (typeof ENGINES)[number];

/** The engine of a connection that names none. */
export function engineOf(connection: { engine?: Engine }): Engine {
  return connection.engine ?? 'elasticsearch';
}

const ELASTIC_PRODUCT_HEADER = 'x-elastic-product';

/** The cluster is another engine than the configuration names: the process cannot work with it. */
export class EngineMismatchError extends ProxyAccessLogError {
  readonly code = 'STORAGE_ENGINE_MISMATCH';
  constructor(configured: Engine, found: Engine, url: string) {
    super(`elasticsearch.engine is ${configured}, but the cluster at ${url} is ${found}: set elasticsearch.engine (or ELASTICSEARCH_ENGINE) to ${found}, or point elasticsearch.url at a ${configured} cluster`);
  }
}

/** The Authorization header the connection's credentials make, for a request outside either client. */
export function authorization(connection: ElasticsearchConnection): string | undefined {
  if (connection.api_key) return `ApiKey ${connection.api_key}`;
  if (connection.username && connection.password) return `Basic ${Buffer.from(`${connection.username}:${connection.password}`).toString('base64')}`;
  return undefined;
}

/**
 * The engine `connection.url` answers as, or undefined when its answer names neither (a proxy in
 * front of it, a refusal without Elasticsearch's header). Throws when it cannot be reached.
 */
export async function detectEngine(connection: ElasticsearchConnection): Promise<Engine | undefined> {
  const dispatcher = new Agent({ connect: connection.ca_file ? { ca: readFileSync(connection.ca_file) } : {} });
  try {
    const auth = authorization(connection);
    const response = await fetch(new URL('/', connection.url), {
      headers: auth ? { authorization: auth } : {},
      signal: AbortSignal.timeout(connection.request_timeout_ms),
      dispatcher,
    });
    const text = await response.text();
    if (response.headers.get(ELASTIC_PRODUCT_HEADER) === 'Elasticsearch') return 'elasticsearch';
    try {
      const distribution = (JSON.parse(text) as { version?: { distribution?: unknown } }).version?.distribution;
      if (distribution === 'opensearch') return 'opensearch';
    } catch {
      // Not JSON: neither engine said who it is.
    }
    return undefined;
  } finally {
    await dispatcher.close();
  }
}

/** Resolves when the cluster is `connection.engine` or does not say; EngineMismatchError when it is the other one. */
export async function checkEngine(connection: ElasticsearchConnection): Promise<Engine | undefined> {
  const found = await detectEngine(connection);
  if (found !== undefined && found !== engineOf(connection)) throw new EngineMismatchError(engineOf(connection), found, connection.url);
  return found;
}

const UNANSWERED_RETRY_MS = 5_000;

/**
 * For a process that starts whether or not the cluster is up (the API): checks the engine once the
 * cluster answers, asking again every few seconds until then. Resolves with the mismatch, if any.
 */
export async function engineMismatchOnceReachable(connection: ElasticsearchConnection, signal?: AbortSignal): Promise<EngineMismatchError | undefined> {
  for (;;) {
    try {
      await checkEngine(connection);
      return undefined;
    } catch (error) {
      if (error instanceof EngineMismatchError) return error;
      await new Promise((resolve) => setTimeout(resolve, UNANSWERED_RETRY_MS).unref());
      if (signal?.aborted) return undefined;
    }
  }
}
