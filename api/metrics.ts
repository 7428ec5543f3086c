// The API's numbers for Prometheus: each request's latency by route and status, and each
// Elasticsearch call's latency and failures by operation. Served on their own listener
// (`metrics` in the config), never on the API's port.

import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { ErrorCode } from '../common/errors.ts';

/** Upper bounds (seconds): from a cached page to an export of many pages. */
const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The Elasticsearch calls the API makes (event-store.ts). */
export type StoreOperation = 'search' | 'open_point_in_time' | 'close_point_in_time' | 'health';

/** The `route` label of requests no route matched: one series, not one per path a scanner tries. */
const UNMATCHED_ROUTE = 'unmatched';

export class ApiMetrics {
  readonly registry = new Registry();
  readonly #requests = new Histogram({
    name: 'api_request_duration_seconds',
    help: 'API requests from arrival to the end of the response, by route pattern, method and status',
    labelNames: ['route', 'method', 'status'],
    buckets: DURATION_BUCKETS_S,
    registers: [this.registry],
  });
  readonly #storeCalls = new Histogram({
    name: 'api_elasticsearch_duration_seconds',
    help: 'Elasticsearch calls made by the API, by operation (failed calls included)',
    labelNames: ['operation'],
    buckets: DURATION_BUCKETS_S,
    registers: [this.registry],
  });
  readonly #storeErrors = new Counter({
    name: 'api_elasticsearch_errors_total',
    help: 'Elasticsearch calls that failed, by operation and the API error they became (API_INTERNAL: unexpected)',
    labelNames: ['operation', 'error'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'api_' });
  }

  request(route: string | undefined, method: string, status: number, seconds: number): void {
    this.#requests.observe({ route: route ?? UNMATCHED_ROUTE, method, status }, seconds);
  }

  storeCall(operation: StoreOperation, seconds: number, error: ErrorCode | undefined): void {
    this.#storeCalls.observe({ operation }, seconds);
    if (error !== undefined) this.#storeErrors.inc({ operation, error });
  }
}
