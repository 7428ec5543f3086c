// The API's only store: searches over every daily index of the prefix, each bounded by the
// configured timeout and aborted when the client goes away (ClientClosedRequestError, never a
// 503). A search that meets a shard still starting (a daily index just created) waits for the
// shards once, briefly, and is tried again. Connection failures, timeouts, overload, credentials
// refused (a restarted secured cluster refuses every API key until its security index is back), a
// point in time that lost a shard with its node and a search the cluster cancelled become
// ElasticsearchUnavailableError (503); anything else stays unexpected (500). An event search takes
// only a query built by filters.ts (inside the token's service scope) and no global aggregation,
// which would count outside it. The API's audit log is searched here too, in its own indices.

import type { estypes } from '@elastic/elasticsearch';
import { auditIndexPattern, type AuditDocument } from '../common/api-audit-document.ts';
import { indexPattern, type ProxyEventDocument } from '../common/proxy-event-document.ts';
import type { ErrorCode } from '../common/errors.ts';
import { ENGINE_NAMES } from '../common/search-engine.ts';
import { StorageRequestError, type Storage } from '../common/storage/storage.ts';
import { ApiError, ClientClosedRequestError, ElasticsearchUnavailableError } from './errors.ts';
import type { ApiMetrics, StoreOperation } from './metrics.ts';
import type { ScopedQuery } from './query/filters.ts';

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
function errorBody(error: StorageRequestError): { type?: string; reason?: string } {
  const body = error.body as { error?: ErrorCause } | undefined;
  const top = typeof body?.error === 'object' ? body.error : {};
  let innermost = top;
  while (innermost.caused_by) innermost = innermost.caused_by;
  return { type: top.type, reason: innermost.reason || top.reason };
}

function shardsNotStarted(error: unknown): boolean {
  return error instanceof StorageRequestError && error.statusCode === 503 && SHARDS_NOT_STARTED.has(errorBody(error).type ?? '');
}

/**
 * Failures of the cluster, not of the request, whatever status they come with: a search under a
 * point in time whose node holding one of its shard contexts left (or that expired), and a search
 * Elasticsearch cancelled (a shard's node went away with its task, or a connection of ours closed).
 */
const CLUSTER_CAUSES = {
  search_context_missing_exception: 'a shard of the point in time is gone: its node left the cluster, or it expired',
  task_cancelled_exception: 'the cluster cancelled the search',
} as const;

function clusterCause(error: StorageRequestError): string | undefined {
  const body = JSON.stringify(error.body ?? '');
  return Object.entries(CLUSTER_CAUSES).find(([type]) => body.includes(`"${type}"`))?.[1];
}

/** Why Elasticsearch could not serve the request, in words; undefined when it is not unavailability but a bug. */
function unavailableReason(error: unknown, timeoutMs: number): string | undefined {
  if (!(error instanceof StorageRequestError)) return undefined;
  const engine = ENGINE_NAMES[error.engine];
  if (error.kind === 'timeout') return `no answer from ${engine} within ${timeoutMs} ms`;
  if (error.kind === 'unreachable') return `cannot reach ${engine}: ${error.message}`;
  if (error.kind !== 'response') return undefined;
  const cause = clusterCause(error);
  if (cause) return cause;
  const { type, reason } = errorBody(error);
  const said = [type, reason].filter(Boolean).join(': ').replaceAll(/\s+/g, ' ').slice(0, REASON_CHARS);
  const answered = `${engine} answered ${error.statusCode}${said ? ` (${said})` : ''}`;
  if (UNAVAILABLE_STATUS.has(error.statusCode ?? 0)) return answered;
  // A secured cluster that has just started cannot check API keys until its security index is
  // back; a revoked or wrong key gets the same 401, for which the log line is the operator's cue.
  if (error.statusCode === 401) return `${answered}: the API's credentials were not accepted (wrong or revoked, or the cluster's security index is still starting)`;
  return undefined;
}

/** ElasticsearchUnavailableError when the error is unavailability; the error itself when it is a bug. */
function unavailable(error: unknown, timeoutMs: number): unknown {
  const reason = unavailableReason(error, timeoutMs);
  return reason === undefined ? error : new ElasticsearchUnavailableError(reason, error);
}

export type EventSearchResponse = estypes.SearchResponse<ProxyEventDocument>;
export type AuditSearchResponse = estypes.SearchResponse<AuditDocument>;

/** A search over the events: its query comes from filterQuery, so it stays in the token's scope. */
export type EventSearchRequest = Omit<estypes.SearchRequest, 'index' | 'query'> & { query: ScopedQuery };

/** Whether an aggregation tree holds a `global` aggregation, the one kind that ignores the query. */
function hasGlobalAggregation(aggs: Record<string, estypes.AggregationsAggregationContainer> | undefined): boolean {
  return Object.values(aggs ?? {}).some((agg) => agg.global !== undefined || hasGlobalAggregation(agg.aggs ?? agg.aggregations));
}

/** How many documents matched: Elasticsearch reports a number or `{value, relation}`. */
export function totalHits(response: estypes.SearchResponse): number {
  const total = response.hits.total;
  return typeof total === 'number' ? total : (total?.value ?? 0);
}

export class EventStore {
  readonly storage: Storage;
  readonly index: string;
  readonly auditIndex: string;
  readonly timeoutMs: number;
  readonly #metrics: ApiMetrics | undefined;

  constructor(storage: Storage, index_prefix: string, timeoutMs: number, metrics?: ApiMetrics) {
    this.storage = storage;
    this.index = indexPattern(index_prefix);
    this.auditIndex = auditIndexPattern(index_prefix);
    this.timeoutMs = timeoutMs;
    this.#metrics = metrics;
  }

  /** The client's own retries stay: they only move a request off a node that is gone (elasticsearch.nodes). */
  #options(signal: AbortSignal | undefined) {
    return { timeoutMs: this.timeoutMs, signal };
  }

  /**
   * Runs `call`, once more after the shards started if it met one starting, and names what went
   * wrong: the client gone, Elasticsearch unavailable, or (rethrown as it is) a bug. The metrics
   * get the call's whole time, its retry included, and that name.
   */
  async #guarded<T>(operation: StoreOperation, call: () => Promise<T>, signal: AbortSignal | undefined, index = this.index): Promise<T> {
    const started = performance.now();
    let failure: ErrorCode | undefined;
    try {
      try {
        return await call();
      } catch (error) {
        if (!shardsNotStarted(error) || signal?.aborted) throw error;
        await this.#shardsStarted(index, signal);
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
  async #shardsStarted(index: string, signal: AbortSignal | undefined): Promise<void> {
    const waitMs = Math.min(SHARD_START_WAIT_MS, this.timeoutMs);
    await this.storage.health({ index, activeShards: 'all', timeout: `${waitMs}ms` }, this.#options(signal));
  }

  /**
   * A search over the prefix's indices, or within a point in time when the request names one.
   * A shard that fails fails the search: an audit trail must not silently come back incomplete.
   */
  search(request: EventSearchRequest, signal?: AbortSignal): Promise<EventSearchResponse> {
    if (hasGlobalAggregation(request.aggs ?? request.aggregations)) throw new Error('a global aggregation would count events outside the service scope');
    const complete = { ...request, allow_partial_search_results: false };
    const target = request.pit ? complete : { ...complete, index: this.index };
    return this.#guarded('search', () => this.storage.search<ProxyEventDocument>(target, this.#options(signal)), signal);
  }

  /** A search over the API's audit log (readable only with the audit permission, which sees every service). */
  searchAudit(request: Omit<estypes.SearchRequest, 'index'>, signal?: AbortSignal): Promise<AuditSearchResponse> {
    const target = { ...request, index: this.auditIndex, allow_partial_search_results: false };
    return this.#guarded('search_audit', () => this.storage.search<AuditDocument>(target, this.#options(signal)), signal, this.auditIndex);
  }

  /** Opens a point in time over the prefix's indices and answers its id. */
  openPointInTime(keepAlive: string, signal?: AbortSignal): Promise<string> {
    return this.#guarded('open_point_in_time', () => this.storage.openPointInTime(this.index, keepAlive, this.#options(signal)), signal);
  }

  /** Never tied to the client: it is what cleans up after one that went away. */
  closePointInTime(id: string): Promise<void> {
    return this.#guarded('close_point_in_time', () => this.storage.closePointInTime(id, this.#options(undefined)), undefined);
  }

  /** Cluster health status (green, yellow, red); throws ElasticsearchUnavailableError when unreachable. */
  async health(signal?: AbortSignal): Promise<string> {
    return await this.#guarded('health', () => this.storage.health({}, this.#options(signal)), signal);
  }
}
