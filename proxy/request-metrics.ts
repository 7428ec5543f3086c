// What the proxy's finished requests add up to, for Prometheus: requests by service, status class
// and auth method; a latency histogram by service; authentication failures; failed-attempt limit
// refusals; open connections. A request adds to plain numbers kept per service: prom-client's own
// counters hash their labels into a new string on every call, which the request path should not
// pay. The labelled series are built when Prometheus scrapes.

import type { Registry } from 'prom-client';
import { AUTH_METHODS, TOO_MANY_ATTEMPTS_STATUS, type AuthMethod } from '../common/access-record.ts';

/** Upper bounds (seconds) of the latency histogram: from a cache hit to a slow upstream. */
const DURATION_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
/** The `service` label of requests no configured service matched. */
const NO_SERVICE = '';

class ServiceTally {
  /** Indexed by status class × auth method. */
  readonly requests = new Float64Array(STATUS_CLASSES.length * AUTH_METHODS.length);
  /** 401 and 403, by the auth method attempted. */
  readonly authFailures = new Float64Array(AUTH_METHODS.length);
  rateLimited = 0;
  /** Non-cumulative counts per bucket; the last counts what is above every bound. */
  readonly buckets = new Float64Array(DURATION_BUCKETS_S.length + 1);
  durationSum = 0;
}

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** A series prom-client's registry prints as it is: its `get` builds the samples at scrape time. */
function scraped(name: string, help: string, type: 'counter' | 'gauge' | 'histogram', samples: () => Sample[]) {
  return { name, help, type, get: () => ({ name, help, type, values: samples(), aggregator: 'sum' }) };
}

export class RequestMetrics {
  readonly #byService = new Map<string, ServiceTally>();
  openConnections = 0;

  observe(service: string | undefined, status: number, authMethod: AuthMethod, durationMs: number): void {
    const key = service ?? NO_SERVICE;
    let tally = this.#byService.get(key);
    if (tally === undefined) {
      tally = new ServiceTally();
      this.#byService.set(key, tally);
    }
    const method = AUTH_METHODS.indexOf(authMethod);
    const statusClass = Math.min(Math.max(Math.floor(status / 100), 1), 5) - 1;
    tally.requests[statusClass * AUTH_METHODS.length + method]!++;
    if (status === 401 || status === 403) tally.authFailures[method]!++;
    else if (status === TOO_MANY_ATTEMPTS_STATUS) tally.rateLimited++;
    const seconds = durationMs / 1000;
    let bucket = 0;
    while (bucket < DURATION_BUCKETS_S.length && seconds > DURATION_BUCKETS_S[bucket]!) bucket++;
    tally.buckets[bucket]!++;
    tally.durationSum += seconds;
  }

  register(registry: Registry): void {
    const series = [
      scraped('proxy_requests_total', 'Requests answered, by service, status class and auth method (the access log has one line for each)', 'counter', () =>
        this.#samples((service, tally) =>
          STATUS_CLASSES.flatMap((statusClass, classIndex) =>
            AUTH_METHODS.map((method, methodIndex) => ({
              labels: { service, status_class: statusClass, auth_method: method },
              value: tally.requests[classIndex * AUTH_METHODS.length + methodIndex]!,
            })),
          ).filter((sample) => sample.value > 0),
        ),
      ),
      scraped('proxy_auth_failures_total', 'Requests denied 401 or 403, by service and the auth method attempted', 'counter', () =>
        this.#samples((service, tally) =>
          AUTH_METHODS.map((method, index) => ({ labels: { service, auth_method: method }, value: tally.authFailures[index]! })).filter((sample) => sample.value > 0),
        ),
      ),
      scraped('proxy_rate_limited_total', 'Requests refused 429 by the failed-attempt limits, by service', 'counter', () =>
        this.#samples((service, tally) => [{ labels: { service }, value: tally.rateLimited }]),
      ),
      scraped('proxy_request_duration_seconds', 'From request arrival to the last byte of the response, by service', 'histogram', () =>
        this.#samples((service, tally) => {
          const samples: Sample[] = [];
          let cumulative = 0;
          DURATION_BUCKETS_S.forEach((bound, index) => {
            cumulative += tally.buckets[index]!;
            samples.push({ metricName: 'proxy_request_duration_seconds_bucket', labels: { service, le: bound }, value: cumulative });
          });
          cumulative += tally.buckets[DURATION_BUCKETS_S.length]!;
          samples.push({ metricName: 'proxy_request_duration_seconds_bucket', labels: { service, le: '+Inf' }, value: cumulative });
          samples.push({ metricName: 'proxy_request_duration_seconds_sum', labels: { service }, value: tally.durationSum });
          samples.push({ metricName: 'proxy_request_duration_seconds_count', labels: { service }, value: cumulative });
          return samples;
        }),
      ),
      scraped('proxy_open_connections', 'Client connections open now (upgraded WebSockets included)', 'gauge', () => [{ labels: {}, value: this.openConnections }]),
    ];
    // The registry only reads name, help, type and get() of what it is given.
    for (const metric of series) registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  #samples(of: (service: string, tally: ServiceTally) => Sample[]): Sample[] {
    return [...this.#byService].flatMap(([service, tally]) => of(service, tally));
  }
}
