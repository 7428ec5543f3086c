// One request's state from arrival to its single access-log line. Handlers fill in what they learn
// (service, auth outcome, failure) and `Recorder.finish` writes the line exactly once.

import { performance } from 'node:perf_hooks';
import { USER_AGENT_MAX_LENGTH, type AuthMethod, type Protocol } from '../common/access-record.ts';
import type { AccessLog } from './access-log.ts';
import type { RequestMetrics } from './request-metrics.ts';

export const CLIENT_CLOSED_STATUS = 499;
export const CLIENT_CLOSED_REASON = 'client closed request';
export const SHUTTING_DOWN_STATUS = 503;
export const SHUTTING_DOWN_REASON = 'proxy shutting down';
/** The `refuse` policy's answer while the access log cannot keep more lines. */
export const ACCESS_LOG_UNAVAILABLE_STATUS = 503;
export const ACCESS_LOG_UNAVAILABLE_REASON = 'access log unavailable';

/** Cancels the upstream side of an exchange when the client goes away first. */
export interface UpstreamCancel {
  cancel(): void;
}

export class Exchange {
  readonly startMs = Date.now();
  readonly startHr = performance.now();
  readonly id: string;
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly sourceIp: string;
  readonly protocol: Protocol;
  readonly userAgent: string | undefined;
  service: string | undefined = undefined;
  authMethod: AuthMethod = 'none';
  userId: string | undefined = undefined;
  userEmail: string | undefined = undefined;
  userName: string | undefined = undefined;
  reason: string | undefined = undefined;
  /** Set when the proxy decides the outcome itself (upstream failure, shutdown), overriding the status sent. */
  failStatus = 0;
  bytesIn = 0;
  bytesOut = 0;
  done = false;
  upstream: UpstreamCancel | undefined = undefined;

  constructor(id: string, method: string, host: string, path: string, sourceIp: string, protocol: Protocol, userAgent: string | undefined) {
    this.id = id;
    this.method = method;
    this.host = host;
    this.path = path;
    this.sourceIp = sourceIp;
    this.protocol = protocol;
    this.userAgent = userAgent !== undefined && userAgent.length > USER_AGENT_MAX_LENGTH ? userAgent.slice(0, USER_AGENT_MAX_LENGTH) : userAgent;
  }

  fail(status: number, reason: string): void {
    this.failStatus = status;
    this.reason = reason;
  }
}

export class Recorder {
  readonly #log: AccessLog | undefined;
  readonly metrics: RequestMetrics;
  active = 0;
  /** The last arrival time written and its ISO text: requests finishing together mostly share their millisecond. */
  #timeMs = Number.NaN;
  #timeText = '';

  constructor(log: AccessLog | undefined, metrics: RequestMetrics) {
    this.#log = log;
    this.metrics = metrics;
  }

  /** True while requests must be refused because their lines could not be kept. */
  get refusing(): boolean {
    return this.#log?.refusing ?? false;
  }

  begin(): void {
    this.active++;
  }

  /** Writes the exchange's line unless already written; `status` is what the client got. */
  finish(exchange: Exchange, status: number): void {
    if (exchange.done) return;
    exchange.done = true;
    this.active--;
    const durationMs = Math.round((performance.now() - exchange.startHr) * 1000) / 1000;
    this.metrics.observe(exchange.service, status, exchange.authMethod, durationMs);
    const log = this.#log;
    if (log === undefined) return;
    if (exchange.startMs !== this.#timeMs) {
      this.#timeMs = exchange.startMs;
      this.#timeText = new Date(exchange.startMs).toISOString();
    }
    log.write({
      time: this.#timeText,
      id: exchange.id,
      service: exchange.service,
      method: exchange.method,
      host: exchange.host,
      path: exchange.path,
      status,
      duration_ms: durationMs,
      source_ip: exchange.sourceIp,
      auth_method: exchange.authMethod,
      user_id: exchange.userId,
      user_email: exchange.userEmail,
      user_name: exchange.userName,
      reason: exchange.reason,
      bytes_in: exchange.bytesIn,
      bytes_out: exchange.bytesOut,
      user_agent: exchange.userAgent,
      protocol: exchange.protocol,
    });
  }
}
