// The storage seam on Elasticsearch, through its official client (@elastic/elasticsearch 8.19):
// requests go as the client takes them, its errors become StorageRequestError.

import { errors, type Client } from '@elastic/elasticsearch';
import type { estypes } from '@elastic/elasticsearch';
import { bulkBody, storageError, type BulkItem, type CallOptions, type ClientErrorClasses, type IndexTemplate, type SearchRequest, type SearchResponse, type Storage } from './storage.ts';

const CLIENT_ERRORS: ClientErrorClasses = errors;

/** The client's own retries stay unless `noRetry`: they only move a request off a node that is gone. */
function transportOptions(options: CallOptions | undefined, ignore?: number[]) {
  return {
    ...(options?.timeoutMs === undefined ? {} : { requestTimeout: options.timeoutMs }),
    ...(options?.signal ? { signal: options.signal } : {}),
    ...(options?.noRetry ? { maxRetries: 0 } : {}),
    ...(ignore ? { ignore } : {}),
  };
}

/** Only what settles the items comes back: a large batch's full answer is mostly noise. */
export const BULK_FILTER_PATH = ['items.*.status', 'items.*.error.type', 'items.*.error.reason', 'items.*.error.caused_by.type', 'items.*.error.caused_by.reason'];

async function call<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw storageError('elasticsearch', CLIENT_ERRORS, error);
  }
}

export class ElasticsearchStorage implements Storage {
  readonly engine = 'elasticsearch';
  /** The client itself, for the Elasticsearch-only tools (setup-elasticsearch, verify-trail, benchmarks). */
  readonly client: Client;

  constructor(client: Client) {
    this.client = client;
  }

  async bulk(operations: readonly (string | object)[], options?: CallOptions & { refresh?: boolean }): Promise<BulkItem[]> {
    // The client passes a Buffer through as the body; its types name only arrays.
    const body = bulkBody(operations) as unknown as estypes.BulkRequest['operations'];
    const response = await call(() =>
      this.client.bulk(
        { operations: body, ...(options?.refresh === undefined ? {} : { refresh: options.refresh }), filter_path: BULK_FILTER_PATH },
        transportOptions(options),
      ),
    );
    return response.items.map((item) => Object.values(item)[0] as BulkItem);
  }

  async putIndexTemplate(template: IndexTemplate, options?: CallOptions): Promise<void> {
    await call(() => this.client.indices.putIndexTemplate(template as estypes.IndicesPutIndexTemplateRequest, transportOptions(options)));
  }

  async putMapping(index: string, properties: Record<string, unknown>): Promise<void> {
    await call(() => this.client.indices.putMapping({ index, allow_no_indices: true, properties: properties as Record<string, estypes.MappingProperty> }));
  }

  async mappedIndices(pattern: string): Promise<string[]> {
    return Object.keys(await call(() => this.client.indices.getMapping({ index: pattern, allow_no_indices: true })));
  }

  async createIndex(index: string): Promise<boolean> {
    try {
      await call(() => this.client.indices.create({ index, wait_for_active_shards: 1 }));
      return true;
    } catch (error) {
      if ((error as { errorType?: string }).errorType === 'resource_already_exists_exception') return false;
      throw error;
    }
  }

  async resolveIndices(patterns: readonly string[]): Promise<string[]> {
    const { indices } = await call(() => this.client.indices.resolveIndex({ name: [...patterns], expand_wildcards: 'all' }));
    return indices.map((index) => index.name);
  }

  async deleteIndices(names: readonly string[]): Promise<void> {
    await call(() => this.client.indices.delete({ index: [...names], ignore_unavailable: true, allow_no_indices: true }));
  }

  async indexTemplates(): Promise<Array<{ name: string; meta: Record<string, unknown> | undefined }>> {
    const { index_templates } = await call(() => this.client.indices.getIndexTemplate());
    return index_templates.map(({ name, index_template }) => ({ name, meta: index_template._meta }));
  }

  async deleteIndexTemplate(name: string): Promise<void> {
    await call(() => this.client.indices.deleteIndexTemplate({ name }, { ignore: [404] }));
  }

  async refresh(pattern: string): Promise<void> {
    await call(() => this.client.indices.refresh({ index: pattern, allow_no_indices: true, ignore_unavailable: true }));
  }

  async count(pattern: string, query?: estypes.QueryDslQueryContainer): Promise<number> {
    const { count } = await call(() => this.client.count({ index: pattern, allow_no_indices: true, ignore_unavailable: true, ...(query ? { query } : {}) }));
    return count;
  }

  search<T>(request: SearchRequest, options?: CallOptions): Promise<SearchResponse<T>> {
    return call(() => this.client.search<T>(request, transportOptions(options)));
  }

  async openPointInTime(index: string, keepAlive: string, options?: CallOptions): Promise<string> {
    const { id } = await call(() => this.client.openPointInTime({ index, keep_alive: keepAlive }, transportOptions(options)));
    return id;
  }

  async closePointInTime(id: string, options?: CallOptions): Promise<void> {
    await call(() => this.client.closePointInTime({ id }, transportOptions(options)));
  }

  async health(request: { index?: string; activeShards?: 'all'; timeout?: string } = {}, options?: CallOptions): Promise<string> {
    const { index, activeShards, timeout } = request;
    // 408: the wait ran out; the answer still says how the cluster is.
    const health = await call(() =>
      this.client.cluster.health(
        { ...(index ? { index } : {}), ...(activeShards ? { wait_for_active_shards: activeShards } : {}), ...(timeout ? { timeout } : {}) },
        transportOptions(options, activeShards ? [408] : undefined),
      ),
    );
    return health.status;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
