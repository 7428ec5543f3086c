// The storage seam on OpenSearch 3 (tested on 3.6.0), through its official client (@opensearch-project/opensearch).
// The query DSL, composable templates, settings and aggregation answers are Elasticsearch's, so
// requests travel as they are; what differs is handled here:
// - The client takes URL parameters beside a `body`, where Elasticsearch's takes one flat object.
// - Points in time: `POST /<index>/_search/point_in_time?keep_alive=` answers `pit_id` (not `id`),
//   and `DELETE /_search/point_in_time` takes `{pit_id: [id]}`; a search names one as Elasticsearch
//   does (`pit: {id, keep_alive}`).
// - The client has no AbortSignal: a signal stops a request before it is sent, not in flight.
// - Errors are this client's classes (same names as Elasticsearch's, other classes).
// - Under a point in time, hits' sort values are only the explicit sort's (Elasticsearch appends
//   its implicit `_shard_doc` tiebreaker), which the export already keeps to.
// test/storage/differences.test.ts checks each, and that the rest is indeed the same.

import { readFileSync } from 'node:fs';
import { Client, errors, type ClientOptions } from '@opensearch-project/opensearch';
import type { estypes } from '@elastic/elasticsearch';
import type { ElasticsearchConnection } from '../elasticsearch-connection.ts';
import { BULK_FILTER_PATH } from './elasticsearch.ts';
import { bulkBody, storageError, type BulkItem, type CallOptions, type ClientErrorClasses, type IndexTemplate, type SearchRequest, type SearchResponse, type Storage } from './storage.ts';

const CLIENT_ERRORS: ClientErrorClasses = errors;

/**
 * Runs one client call: its answer's body, or StorageRequestError. `signal` stops a call before it
 * is sent; one in flight runs to its answer or its timeout, since aborting this client's requests
 * (its promise's `abort()`) raised RequestAbortedError outside that promise, as an uncaught exception.
 */
async function call<T>(signal: AbortSignal | undefined, request: () => Promise<{ body: unknown }>): Promise<T> {
  signal?.throwIfAborted();
  try {
    return (await request()).body as T;
  } catch (error) {
    throw storageError('opensearch', CLIENT_ERRORS, error);
  }
}

function transportOptions(options: CallOptions | undefined, ignore?: number[]) {
  return {
    ...(options?.timeoutMs === undefined ? {} : { requestTimeout: options.timeoutMs }),
    ...(options?.noRetry ? { maxRetries: 0 } : {}),
    ...(ignore ? { ignore } : {}),
  };
}

/** Search parameters that go in the URL; everything else of an Elasticsearch-shaped request is the body. */
const SEARCH_URL_PARAMETERS = new Set(['index', 'allow_partial_search_results', 'ignore_unavailable', 'allow_no_indices', 'expand_wildcards', 'preference', 'routing', 'request_cache', 'typed_keys', 'filter_path']);

function searchParameters(request: SearchRequest): { params: Record<string, unknown>; body: Record<string, unknown> } {
  const params: Record<string, unknown> = {};
  const body: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(request)) {
    if (value === undefined) continue;
    (SEARCH_URL_PARAMETERS.has(key) ? params : body)[key] = value;
  }
  return { params, body };
}

export function createOpenSearchClient(connection: ElasticsearchConnection): Client {
  const nodes = [connection.url, ...(connection.nodes ?? [])];
  const options: ClientOptions = {
    nodes,
    requestTimeout: connection.request_timeout_ms,
    // Only onto another node, as on Elasticsearch: one node alone is never retried.
    maxRetries: nodes.length - 1,
  };
  if (connection.username && connection.password) options.auth = { username: connection.username, password: connection.password };
  if (connection.ca_file) options.ssl = { ca: readFileSync(connection.ca_file) };
  return new Client(options);
}

export class OpenSearchStorage implements Storage {
  readonly engine = 'opensearch';
  readonly #client: Client;

  constructor(client: Client) {
    this.#client = client;
  }

  async bulk(operations: readonly (string | object)[], options?: CallOptions & { refresh?: boolean }): Promise<BulkItem[]> {
    // The client passes a Buffer through as the body; its types name only arrays.
    const ndjson = bulkBody(operations) as unknown as object[];
    const body = await call<{ items: Array<Record<string, BulkItem>> }>(options?.signal, () =>
      this.#client.bulk({ body: ndjson, ...(options?.refresh === undefined ? {} : { refresh: options.refresh }), filter_path: BULK_FILTER_PATH }, transportOptions(options)),
    );
    return body.items.map((item) => Object.values(item)[0]!);
  }

  async putIndexTemplate(template: IndexTemplate, options?: CallOptions): Promise<void> {
    const { name, ...body } = template;
    await call(options?.signal, () => this.#client.indices.putIndexTemplate({ name, body } as never, transportOptions(options)));
  }

  async putMapping(index: string, properties: Record<string, unknown>): Promise<void> {
    await call(undefined, () => this.#client.indices.putMapping({ index, allow_no_indices: true, body: { properties } } as never));
  }

  async mappedIndices(pattern: string): Promise<string[]> {
    return Object.keys(await call<Record<string, unknown>>(undefined, () => this.#client.indices.getMapping({ index: pattern, allow_no_indices: true })));
  }

  async createIndex(index: string): Promise<boolean> {
    try {
      await call(undefined, () => this.#client.indices.create({ index, wait_for_active_shards: 1 }));
      return true;
    } catch (error) {
      if ((error as { errorType?: string }).errorType === 'resource_already_exists_exception') return false;
      throw error;
    }
  }

  async resolveIndices(patterns: readonly string[]): Promise<string[]> {
    const { indices } = await call<{ indices: Array<{ name: string }> }>(undefined, () => this.#client.indices.resolveIndex({ name: [...patterns], expand_wildcards: 'all' }));
    return indices.map((index) => index.name);
  }

  async deleteIndices(names: readonly string[]): Promise<void> {
    await call(undefined, () => this.#client.indices.delete({ index: [...names], ignore_unavailable: true, allow_no_indices: true }));
  }

  async indexTemplates(): Promise<Array<{ name: string; meta: Record<string, unknown> | undefined }>> {
    const { index_templates } = await call<{ index_templates: Array<{ name: string; index_template: { _meta?: Record<string, unknown> } }> }>(undefined, () =>
      this.#client.indices.getIndexTemplate(),
    );
    return index_templates.map(({ name, index_template }) => ({ name, meta: index_template._meta }));
  }

  async deleteIndexTemplate(name: string): Promise<void> {
    await call(undefined, () => this.#client.indices.deleteIndexTemplate({ name }, { ignore: [404] }));
  }

  async refresh(pattern: string): Promise<void> {
    await call(undefined, () => this.#client.indices.refresh({ index: pattern, allow_no_indices: true, ignore_unavailable: true }));
  }

  async count(pattern: string, query?: estypes.QueryDslQueryContainer): Promise<number> {
    const { count } = await call<{ count: number }>(undefined, () =>
      this.#client.count({ index: pattern, allow_no_indices: true, ignore_unavailable: true, ...(query ? { body: { query } } : {}) } as never),
    );
    return count;
  }

  search<T>(request: SearchRequest, options?: CallOptions): Promise<SearchResponse<T>> {
    const { params, body } = searchParameters(request);
    return call(options?.signal, () => this.#client.search({ ...params, body } as never, transportOptions(options)));
  }

  async openPointInTime(index: string, keepAlive: string, options?: CallOptions): Promise<string> {
    const { pit_id } = await call<{ pit_id: string }>(options?.signal, () => this.#client.createPit({ index: [index], keep_alive: keepAlive }, transportOptions(options)));
    return pit_id;
  }

  async closePointInTime(id: string, options?: CallOptions): Promise<void> {
    await call(options?.signal, () => this.#client.deletePit({ body: { pit_id: [id] } }, transportOptions(options)));
  }

  async health(request: { index?: string; activeShards?: 'all'; timeout?: string } = {}, options?: CallOptions): Promise<string> {
    const { index, activeShards, timeout } = request;
    const health = await call<{ status: string }>(options?.signal, () =>
      this.#client.cluster.health(
        { ...(index ? { index } : {}), ...(activeShards ? { wait_for_active_shards: activeShards } : {}), ...(timeout ? { timeout } : {}) },
        transportOptions(options, activeShards ? [408] : undefined),
      ),
    );
    return health.status;
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}
