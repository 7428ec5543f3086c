// The storage seam: every read and write of the indices (the shipper's bulk writes, the index
// templates and the daily indices' life, the API's searches, aggregations and points in time) goes
// through this one interface. Each engine has its own implementation on its own official client
// (common/storage/elasticsearch.ts, common/storage/opensearch.ts); callers never see a client.
// Requests and answers are shaped as Elasticsearch's (its client's `estypes`): the query DSL and
// the aggregations' answers are the same on both engines, and an implementation translates what
// differs (point-in-time endpoints, where a parameter goes, the client's errors).

import type { estypes } from '@elastic/elasticsearch';
import { ProxyAccessLogError } from '../errors.ts';
import type { Engine } from '../search-engine.ts';

export interface CallOptions {
  /** Aborts the request (the API's client went away, the shipper stops). */
  signal?: AbortSignal;
  /** Instead of the connection's `request_timeout_ms`. */
  timeoutMs?: number;
  /** Sends a request that cannot reach its node to none of the others. */
  noRetry?: boolean;
}

/** One item of a `_bulk` answer, in the order of the operations. */
export interface BulkItem {
  status: number;
  error?: { type?: string; reason?: string; caused_by?: { type?: string; reason?: string } };
}

/** A composable index template, as common/proxy-event-document.ts and common/api-audit-document.ts build them. */
export interface IndexTemplate {
  name: string;
  index_patterns: string[];
  priority: number;
  template: { settings: Record<string, unknown>; mappings: { dynamic: false; properties: Record<string, unknown> } };
  _meta: Record<string, unknown>;
}

/** A search over indices (`index`) or within a point in time (`pit`, no `index`). */
export type SearchRequest = estypes.SearchRequest;
export type SearchResponse<T> = estypes.SearchResponse<T>;

export interface Storage {
  readonly engine: Engine;
  /**
   * `_bulk`. Each operation is an action object, a document, or an action line and its document
   * already serialised and joined by a newline. Answers every item's outcome, in order.
   */
  bulk(operations: readonly (string | object)[], options?: CallOptions & { refresh?: boolean }): Promise<BulkItem[]>;
  /** Creates or replaces a composable index template. */
  putIndexTemplate(template: IndexTemplate, options?: CallOptions): Promise<void>;
  /** Adds fields to the mapping of every index `index` names (a pattern matching none is no error). */
  putMapping(index: string, properties: Record<string, unknown>): Promise<void>;
  /** The indices `pattern` matches. */
  mappedIndices(pattern: string): Promise<string[]>;
  /** Creates an index and waits for its primary shard; false when it existed already. */
  createIndex(index: string): Promise<boolean>;
  /** Every index (open or closed) the patterns match; needs only index metadata privileges. */
  resolveIndices(patterns: readonly string[]): Promise<string[]>;
  /** Deletes the named indices; one already gone is no error. */
  deleteIndices(names: readonly string[]): Promise<void>;
  /** Every composable index template on the cluster, with its `_meta`. */
  indexTemplates(): Promise<Array<{ name: string; meta: Record<string, unknown> | undefined }>>;
  /** Deletes a template; one that does not exist is no error. */
  deleteIndexTemplate(name: string): Promise<void>;
  /** Makes everything written to the indices `pattern` matches searchable now. */
  refresh(pattern: string): Promise<void>;
  /** Documents in the indices `pattern` matches (none matching: 0). */
  count(pattern: string, query?: estypes.QueryDslQueryContainer): Promise<number>;
  search<T>(request: SearchRequest, options?: CallOptions): Promise<SearchResponse<T>>;
  /** Opens a point in time over `index` and answers its id. */
  openPointInTime(index: string, keepAlive: string, options?: CallOptions): Promise<string>;
  closePointInTime(id: string, options?: CallOptions): Promise<void>;
  /**
   * The cluster's (or `index`'s) health status: green, yellow or red. With `activeShards: 'all'`
   * it first waits up to `timeout` for every shard to be active (answering what it is then).
   */
  health(request?: { index?: string; activeShards?: 'all'; timeout?: string }, options?: CallOptions): Promise<string>;
  close(): Promise<void>;
}

/** What went wrong with a request, told apart the same way for both engines' clients. */
export type FailureKind =
  /** The engine answered with an error status (`statusCode`, `body`). */
  | 'response'
  /** No answer within the timeout. */
  | 'timeout'
  /** No node could be reached. */
  | 'unreachable'
  /** The caller aborted it. */
  | 'aborted'
  /** Anything else the client raised (a body it could not read, a configuration it refused). */
  | 'client';

/** Every failed storage request, whatever the engine: callers match on `kind`, `statusCode` and the body's error type. */
export class StorageRequestError extends ProxyAccessLogError {
  readonly code = 'STORAGE_REQUEST_FAILED';
  readonly engine: Engine;
  readonly kind: FailureKind;
  readonly statusCode: number | undefined;
  readonly body: unknown;
  constructor(engine: Engine, kind: FailureKind, message: string, options: { statusCode?: number; body?: unknown; cause: unknown }) {
    super(message, { cause: options.cause });
    this.engine = engine;
    this.kind = kind;
    this.statusCode = options.statusCode;
    this.body = options.body;
  }

  /** The error's type in the answer (`index_closed_exception`, …), if the engine answered one. */
  get errorType(): string | undefined {
    const error = (this.body as { error?: unknown } | undefined)?.error;
    return typeof error === 'object' && error !== null ? (error as { type?: string }).type : undefined;
  }
}

const NEWLINE = 0x0a;

/**
 * A `_bulk` request's NDJSON body, written once as bytes. Given the operations, both clients append
 * them one by one into a string of thousands of pieces, which their content-length count
 * (`Buffer.byteLength`) walks and the socket write encodes again: a fifth of the shipper's busy time,
 * profiled. Joining them first costs as much (one more copy of the whole body); each operation
 * written straight into one buffer is a few times cheaper.
 */
export function bulkBody(operations: readonly (string | object)[]): Buffer {
  const lines = operations.map((operation) => (typeof operation === 'string' ? operation : JSON.stringify(operation)));
  let bytes = 0;
  for (const line of lines) bytes += Buffer.byteLength(line) + 1;
  const body = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (const line of lines) {
    at += body.write(line, at);
    body[at++] = NEWLINE;
  }
  return body;
}

/** True when `error` is a storage request that got `status` as its answer. */
export function answeredWith(error: unknown, status: number): boolean {
  return error instanceof StorageRequestError && error.statusCode === status;
}

type ErrorClass = abstract new (...args: never[]) => Error;

/** The error classes an official client raises: the same names in both clients, each client its own classes. */
export interface ClientErrorClasses {
  ResponseError: abstract new (...args: never[]) => Error & { statusCode?: number; body?: unknown };
  TimeoutError: ErrorClass;
  RequestAbortedError: ErrorClass;
  ConnectionError: ErrorClass;
  NoLivingConnectionsError: ErrorClass;
}

/** `error`, raised by `engine`'s client, as a StorageRequestError. */
export function storageError(engine: Engine, classes: ClientErrorClasses, error: unknown): StorageRequestError {
  const e = error as Error;
  const message = `${e?.name ?? 'Error'}: ${e?.message ?? String(error)}`;
  if (error instanceof classes.ResponseError) return new StorageRequestError(engine, 'response', message, { statusCode: error.statusCode, body: error.body, cause: error });
  // NoLivingConnectionsError is not a ConnectionError: every node is marked dead.
  const kind: FailureKind =
    error instanceof classes.TimeoutError ? 'timeout'
    : error instanceof classes.RequestAbortedError ? 'aborted'
    : error instanceof classes.ConnectionError || error instanceof classes.NoLivingConnectionsError ? 'unreachable'
    : 'client';
  return new StorageRequestError(engine, kind, message, { cause: error });
}
