// The API's only store: searches over every daily index of the prefix, each bounded by the
// configured timeout and abandoned when the client goes away. Connection failures, timeouts and
// overload become ElasticsearchUnavailableError (503); anything else stays unexpected (500).

import { errors, type Client } from '@elastic/elasticsearch';
import type { estypes } from '@elastic/elasticsearch';
import { indexPattern, type ProxyEventDocument } from '../common/proxy-event-document.ts';
import { ElasticsearchUnavailableError } from './errors.ts';

const UNAVAILABLE_STATUS = new Set([429, 502, 503, 504]);

export function isUnavailable(error: unknown): boolean {
  return (
    error instanceof errors.ConnectionError ||
    error instanceof errors.TimeoutError ||
    error instanceof errors.NoLivingConnectionsError ||
    error instanceof errors.RequestAbortedError ||
    (error instanceof errors.ResponseError && UNAVAILABLE_STATUS.has(error.statusCode ?? 0))
  );
}

async function guarded<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw isUnavailable(error) ? new ElasticsearchUnavailableError(error) : error;
  }
}

export type EventSearchResponse = estypes.SearchResponse<ProxyEventDocument>;

/** How many documents matched: Elasticsearch reports a number or `{value, relation}`. */
export function totalHits(response: EventSearchResponse): number {
  const total = response.hits.total;
  return typeof total === 'number' ? total : (total?.value ?? 0);
}

export class EventStore {
  readonly client: Client;
  readonly index: string;
  readonly timeoutMs: number;

  constructor(client: Client, index_prefix: string, timeoutMs: number) {
    this.client = client;
    this.index = indexPattern(index_prefix);
    this.timeoutMs = timeoutMs;
  }

  #options(signal: AbortSignal | undefined) {
    return { requestTimeout: this.timeoutMs, signal, maxRetries: 0 };
  }

  /**
   * A search over the prefix's indices, or within a point in time when the request names one.
   * A shard that fails fails the search: an audit trail must not silently come back incomplete.
   */
  search(request: estypes.SearchRequest, signal?: AbortSignal): Promise<EventSearchResponse> {
    const complete = { ...request, allow_partial_search_results: false };
    const target = request.pit ? complete : { ...complete, index: this.index };
    return guarded(() => this.client.search<ProxyEventDocument>(target, this.#options(signal)));
  }

  openPointInTime(keepAlive: string, signal?: AbortSignal): Promise<estypes.OpenPointInTimeResponse> {
    return guarded(() => this.client.openPointInTime({ index: this.index, keep_alive: keepAlive }, this.#options(signal)));
  }

  closePointInTime(id: string): Promise<estypes.ClosePointInTimeResponse> {
    return guarded(() => this.client.closePointInTime({ id }, this.#options(undefined)));
  }

  /** Cluster health status (green, yellow, red); throws ElasticsearchUnavailableError when unreachable. */
  async health(signal?: AbortSignal): Promise<string> {
    const health = await guarded(() => this.client.cluster.health({}, this.#options(signal)));
    return health.status;
  }
}
