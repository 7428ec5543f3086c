// The API's only store: searches over every daily index of the prefix, each bounded by the
// configured timeout and aborted when the client goes away (ClientClosedRequestError, never a
// 503). A search that meets a shard still starting (a daily index just created) waits for the
// shards once, briefly, and is tried again. Connection failures, timeouts and overload become
// ElasticsearchUnavailableError (503); anything else stays unexpected (500).

import { errors, type Client } from '@elastic/elasticsearch';
import type { estypes } from '@elastic/elasticsearch';
import { indexPattern, type ProxyEventDocument } from '../common/proxy-event-document.ts';
import type { ErrorCode } from '../common/errors.ts';
import { ApiError, ClientClosedRequestError, ElasticsearchUnavailableError } from './errors.ts';
import type { ApiMetrics, StoreOperation } from './metrics.ts';

const UNAVAILABLE_STATUS = new Set([429, 502, 503, 504]);
/** What Elasticsearch answers (503) while a shard the search needs has not started yet. */
const SHARDS_NOT_STARTED = new Set(['search_phase_execution_exception', 'no_shard_available_action_exception']);
/** How long a search that met a starting shard waits for the shards before its one retry. */
export const SHARD_START_WAIT_MS = 5_000;
/** Elasticsearch's reasons are short; a longer one is cut, the log line stays one line. */
const REASON_CHARS = 300;

interface ErrorCause {
  type?: string;
  reason?: string;
  caused_by?: ErrorCause;
}

/**
 * The error's type, and the reason of its innermost cause: a search phase's own reason is empty or
 * names the phase ("start"), its cause says what happened ("missing shards [[index][0]]").
 */
function errorBody(error: errors.ResponseError): { type?: string; reason?: string } {
  const body = error.body as { error?: ErrorCause } | undefined;
  const top = typeof body?.error === 'object' ? body.error : {};
  let innermost = top;
  while (innermost.caused_by) innermost = innermost.caused_by;
  return { type: top.type, reason: innermost.reason || top.reason };
}

function shardsNotStarted(error: unknown): boolean {
  return error instanceof errors.ResponseError && error.statusCode === 503 && SHARDS_NOT_STARTED.has(errorBody(error).type ?? '');
}

/** Why Elasticsearch could not serve the request, in words; undefined when it is not unavailability but a bug. */
function unavailableReason(error: unknown, timeoutMs: number): string | undefined {
  if (error instanceof errors.TimeoutError) return `no answer from Elasticsearch within ${timeoutMs} ms`;
  if (error instanceof errors.NoLivingConnectionsError) return 'no Elasticsearch node is reachable';
  if (error instanceof errors.ConnectionError) return `cannot reach Elasticsearch: ${error.message}`;
  if (error instanceof errors.ResponseError && UNAVAILABLE_STATUS.has(error.statusCode ?? 0)) {
    const { type, reason } = errorBody(error);
    const said = [type, reason].filter(Boolean).join(': ').replaceAll(/\s+/g, ' ').slice(0, REASON_CHARS);
    return `Elasticsearch answered ${error.statusCode}${said ? ` (${said})` : ''}`;
  }
  return undefined;
}

/** ElasticsearchUnavailableError when the error is unavailability; the error itself when it is a bug. */
function unavailable(error: unknown, timeoutMs: number): unknown {
  const reason = unavailableReason(error, timeoutMs);
  return reason === undefined ? error : new ElasticsearchUnavailableError(reason, error);
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
  readonly #metrics: ApiMetrics | undefined;

  constructor(client: Client, index_prefix: string, timeoutMs: number, metrics?: ApiMetrics) {
    this.client = client;
    this.index = indexPattern(index_prefix);
    this.timeoutMs = timeoutMs;
    this.#metrics = metrics;
  }

  #options(signal: AbortSignal | undefined) {
    return { requestTimeout: this.timeoutMs, signal, maxRetries: 0 };
  }

  /**
   * Runs `call`, once more after the shards started if it met one starting, and names what went
   * wrong: the client gone, Elasticsearch unavailable, or (rethrown as it is) a bug. The metrics
   * get the call's whole time, its retry included, and that name.
   */
  async #guarded<T>(operation: StoreOperation, call: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    const started = performance.now();
    let failure: ErrorCode | undefined;
    try {
      try {
        return await call();
      } catch (error) {
        if (!shardsNotStarted(error) || signal?.aborted) throw error;
        await this.#shardsStarted(signal);
        return await call();
      }
    } catch (error) {
      const named = signal?.aborted ? new ClientClosedRequestError() : unavailable(error, this.timeoutMs);
      failure = named instanceof ApiError ? named.code : 'API_INTERNAL';
      throw named;
    } finally {
      this.#metrics?.storeCall(operation, (performance.now() - started) / 1000, failure);
    }
  }

  /**
   * Waits (bounded) until every shard of the prefix's indices is active. Not `wait_for_status:
   * yellow`: Elasticsearch reports a new index whose primary has not started as yellow.
   */
  async #shardsStarted(signal: AbortSignal | undefined): Promise<void> {
    const waitMs = Math.min(SHARD_START_WAIT_MS, this.timeoutMs);
    await this.client.cluster.health(
      { index: this.index, wait_for_active_shards: 'all', timeout: `${waitMs}ms` },
      { ...this.#options(signal), ignore: [408] },
    );
  }

  /**
   * A search over the prefix's indices, or within a point in time when the request names one.
   * A shard that fails fails the search: an audit trail must not silently come back incomplete.
   */
  search(request: estypes.SearchRequest, signal?: AbortSignal): Promise<EventSearchResponse> {
    const complete = { ...request, allow_partial_search_results: false };
    const target = request.pit ? complete : { ...complete, index: this.index };
    return this.#guarded('search', () => this.client.search<ProxyEventDocument>(target, this.#options(signal)), signal);
  }

  openPointInTime(keepAlive: string, signal?: AbortSignal): Promise<estypes.OpenPointInTimeResponse> {
    return this.#guarded('open_point_in_time', () => this.client.openPointInTime({ index: this.index, keep_alive: keepAlive }, this.#options(signal)), signal);
  }

  /** Never tied to the client: it is what cleans up after one that went away. */
  closePointInTime(id: string): Promise<estypes.ClosePointInTimeResponse> {
    return this.#guarded('close_point_in_time', () => this.client.closePointInTime({ id }, this.#options(undefined)), undefined);
  }

  /** Cluster health status (green, yellow, red); throws ElasticsearchUnavailableError when unreachable. */
  async health(signal?: AbortSignal): Promise<string> {
    const health = await this.#guarded('health', () => this.client.cluster.health({}, this.#options(signal)), signal);
    return health.status;
  }
}
