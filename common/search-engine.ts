// The two search engines the project runs on, and which one a cluster is. They speak nearly the
// same REST API, but each official client refuses the other's server, so a part must know which
// one it talks to before it sends anything; `GET /` tells them apart.

import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import type { ElasticsearchConnection } from './elasticsearch-connection.ts';
import { ProxyAccessLogError } from './errors.ts';

export const ENGINES = ['elasticsearch', 'opensearch'] as const;
export type Engine = (typeof ENGINES)[number];

/** How messages name each engine. */
export const ENGINE_NAMES: Record<Engine, string> = { elasticsearch: 'Elasticsearch', opensearch: 'OpenSearch' };

export function isEngine(value: string): value is Engine {
  return (ENGINES as readonly string[]).includes(value);
}

/** The cluster is the other engine than the one configured. */
export class EngineMismatchError extends ProxyAccessLogError {
  readonly code = 'ENGINE_MISMATCH';
}

/** `GET /` did not say which engine the cluster is. */
export class EngineUnknownError extends ProxyAccessLogError {
  readonly code = 'ENGINE_UNKNOWN';
}

export interface ClusterIdentity {
  engine: Engine;
  /**
   * Absent when the answer names the engine but no version: credentials that may not read `GET /`,
   * or an Elasticsearch without the module that serves it (the integ-test distribution answers 405).
   */
  version?: string;
}

/** Elasticsearch sends it on every answer since 7.14, refusals of credentials included (its client refuses a server without it); OpenSearch never. */
const ELASTIC_PRODUCT_HEADER = 'x-elastic-product';

interface RootAnswer {
  version?: { number?: string; distribution?: string };
}

function describe(identity: ClusterIdentity): string {
  return identity.version ? `${ENGINE_NAMES[identity.engine]} ${identity.version}` : ENGINE_NAMES[identity.engine];
}

/** The Authorization header the connection's credentials make, for a request outside either client. */
export function authorization(connection: ElasticsearchConnection): string | undefined {
  if (connection.api_key) return `ApiKey ${connection.api_key}`;
  if (connection.username && connection.password) return `Basic ${Buffer.from(`${connection.username}:${connection.password}`).toString('base64')}`;
  return undefined;
}

/** Why an answer to `GET /` names no engine, for the operator to act on. */
function unknownAnswer(url: string, status: number): EngineUnknownError {
  const why =
    status === 401
      ? 'the credentials were refused'
      : status === 403
        ? 'the credentials may not read it: give them the cluster privilege `monitor` (Elasticsearch) or `cluster:monitor/main` (OpenSearch)'
        : status >= 500
          ? 'it is unavailable; try again once it is up'
          : 'the answer names neither Elasticsearch nor OpenSearch';
  return new EngineUnknownError(`${url} answered GET / with ${status}, so which engine it runs is unknown: ${why}`);
}

async function askRoot(url: string, connection: ElasticsearchConnection, dispatcher: Agent | undefined): Promise<ClusterIdentity> {
  const auth = authorization(connection);
  const response = await request(new URL('/', url), {
    headers: auth ? { authorization: auth } : {},
    dispatcher,
    signal: AbortSignal.timeout(connection.request_timeout_ms),
  });
  const text = await response.body.text();
  let body: RootAnswer = {};
  try {
    body = JSON.parse(text) as RootAnswer;
  } catch {
    // not JSON: neither engine answers so
  }
  const version = response.statusCode === 200 ? body.version?.number : undefined;
  const identity = (engine: Engine): ClusterIdentity => (version ? { engine, version } : { engine });
  if (response.statusCode === 200 && body.version?.distribution === 'opensearch') return identity('opensearch');
  if (response.headers[ELASTIC_PRODUCT_HEADER] === 'Elasticsearch') return identity('elasticsearch');
  throw unknownAnswer(url, response.statusCode);
}

/**
 * Which engine the cluster runs, from `GET /` on the first node that names it (the connection's
 * URL, then its other nodes). When none does, the last node's failure: a network error, for the
 * caller to retry as it retries any unreachable cluster, or an EngineUnknownError.
 */
export async function identifyCluster(connection: ElasticsearchConnection): Promise<ClusterIdentity> {
  const dispatcher = connection.ca_file ? new Agent({ connect: { ca: readFileSync(connection.ca_file) } }) : undefined;
  try {
    let failure: unknown;
    for (const url of [connection.url, ...(connection.nodes ?? [])]) {
      try {
        return await askRoot(url, connection, dispatcher);
      } catch (error) {
        failure = error;
      }
    }
    throw failure;
  } finally {
    await dispatcher?.close();
  }
}

/** The cluster's identity when it runs `expected`; an EngineMismatchError naming both engines when not. */
export async function checkEngine(connection: ElasticsearchConnection, expected: Engine): Promise<ClusterIdentity> {
  const identity = await identifyCluster(connection);
  if (identity.engine !== expected) {
    throw new EngineMismatchError(
      `${connection.url} runs ${describe(identity)}, but the configured engine is ${expected} (${ENGINE_NAMES[expected]}): ` +
        `set engine to ${identity.engine}, or point the connection at ${ENGINE_NAMES[expected]}`,
    );
  }
  return identity;
}
