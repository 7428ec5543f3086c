// Forwarding to the upstream with undici's low-level `dispatch` on a keep-alive Pool per service:
// bodies streamed both ways with backpressure, no buffering. Upstream failures become 502
// (refused, reset, DNS) or 504 (timeouts) with the reason on the exchange.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import type { ServiceConfig } from './config.ts';
import { CLIENT_CLOSED_REASON, type Exchange, type UpstreamCancel } from './exchange.ts';
import { clientResponseHeaders } from './headers.ts';
import { sendText } from './respond.ts';

/** Idle upstream connections close before Node's default 5 s server keep-alive would close them under us. */
const UPSTREAM_KEEP_ALIVE_MS = 4_000;

export function createUpstreamPool(service: ServiceConfig): Pool {
  return new Pool(service.upstream, {
    connections: service.upstream_connections,
    keepAliveTimeout: UPSTREAM_KEEP_ALIVE_MS,
    connectTimeout: service.upstream_timeouts.connect_ms,
    headersTimeout: service.upstream_timeouts.headers_ms,
    bodyTimeout: service.upstream_timeouts.body_ms,
  });
}

export interface UpstreamFailure {
  status: 502 | 504;
  reason: string;
}

/** The body of the proxy's own answer to an upstream failure. */
export function upstreamFailureText(failure: UpstreamFailure): string {
  return failure.status === 504 ? 'upstream timed out' : 'upstream unavailable';
}

export function upstreamFailure(error: unknown): UpstreamFailure {
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case 'ECONNREFUSED':
      return { status: 502, reason: 'upstream connection refused' };
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return { status: 502, reason: 'upstream connection reset' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return { status: 502, reason: 'upstream DNS lookup failed' };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { status: 502, reason: 'upstream unreachable' };
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return { status: 504, reason: 'upstream connect timeout' };
    case 'UND_ERR_HEADERS_TIMEOUT':
      return { status: 504, reason: 'upstream headers timeout' };
    case 'UND_ERR_BODY_TIMEOUT':
      return { status: 504, reason: 'upstream body timeout' };
    default:
      return { status: 502, reason: 'upstream error' };
  }
}

/** Passes an upstream chunk on to the client, counted; undici pauses until the client drains. */
export function relayChunk(controller: Dispatcher.DispatchController, exchange: Exchange, client: Writable, chunk: Buffer): void {
  exchange.bytesOut += chunk.length;
  if (!client.write(chunk)) {
    controller.pause();
    client.once('drain', () => controller.resume());
  }
}

async function* countedBody(req: IncomingMessage, exchange: Exchange): AsyncGenerator<Buffer> {
  for await (const chunk of req) {
    exchange.bytesIn += (chunk as Buffer).length;
    yield chunk as Buffer;
  }
}

class ForwardHandler implements Dispatcher.DispatchHandler, UpstreamCancel {
  readonly #exchange: Exchange;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  #controller: Dispatcher.DispatchController | undefined;
  /** A 204 or 304 has no body whatever its Content-Length says (RFC 9110 §6.4.1); undici still expects one. */
  #bodiless = false;

  constructor(exchange: Exchange, req: IncomingMessage, res: ServerResponse) {
    this.#exchange = exchange;
    this.#req = req;
    this.#res = res;
    exchange.upstream = this;
  }

  cancel(): void {
    this.#controller?.abort(new Error(CLIENT_CLOSED_REASON));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#exchange.done) controller.abort(new Error(CLIENT_CLOSED_REASON));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return;
    const sent = clientResponseHeaders(headers);
    if (statusCode === 204 || statusCode === 304) {
      this.#bodiless = true;
      if (statusCode === 204) delete sent['content-length'];
    }
    this.#res.writeHead(statusCode, sent);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    relayChunk(controller, this.#exchange, this.#res, chunk);
  }

  onResponseEnd(): void {
    this.#res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    const exchange = this.#exchange;
    // The client went first: its close is what gets logged (499), not the abort it caused.
    if (exchange.done || (this.#req.destroyed && !this.#req.complete)) {
      this.#res.destroy();
      return;
    }
    if (this.#bodiless && this.#res.headersSent) {
      this.#res.end();
      return;
    }
    const failure = upstreamFailure(error);
    exchange.fail(failure.status, failure.reason);
    // A body cut short is logged as the upstream failure it is, although the client saw the status line.
    if (this.#res.headersSent) this.#res.destroy();
    else sendText(this.#res, exchange, failure.status, upstreamFailureText(failure));
  }
}

export function forward(pool: Pool, req: IncomingMessage, res: ServerResponse, exchange: Exchange, target: string, headers: string[]): void {
  const length = req.headers['content-length'];
  const hasBody = (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
  // undici accepts any async iterable as a body; its option type lists only Readable.
  const body = hasBody ? (countedBody(req, exchange) as unknown as Readable) : null;
  const handler = new ForwardHandler(exchange, req, res);
  try {
    pool.dispatch({ path: target, method: req.method ?? 'GET', headers, body }, handler);
  } catch (error) {
    // undici rejects some requests synchronously (e.g. a header it refuses to send).
    handler.onResponseError(undefined as never, error as Error);
  }
}
