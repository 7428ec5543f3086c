// WebSocket (and any HTTP Upgrade) proxying. Authenticated like any request (by session cookie:
// there is no page to show on an upgrade), then dispatched on the service's undici Pool with the
// `upgrade` dispatch option, so connect and headers timeouts, TLS and failure reasons are those of
// ordinary forwarding. undici's `pool.upgrade()` wrapper is not used: it turns an upstream's
// non-101 answer into a bare 'bad upgrade' error, and the proxy relays that answer instead.
// The client socket joins the shutdown set the moment the upgrade arrives, so a stop cuts it at
// any stage (queued, waiting for the upstream, tunnelling). One access-log line per upgrade:
// when the tunnel closes (status 101, the connection's whole duration), or once a refusal is sent.

import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { RESERVED_PREFIX } from './auth/endpoints.ts';
import { ACCESS_LOG_UNAVAILABLE_REASON, ACCESS_LOG_UNAVAILABLE_STATUS, CLIENT_CLOSED_REASON, SHUTTING_DOWN_REASON, SHUTTING_DOWN_STATUS, type Exchange } from './exchange.ts';
import { relayChunk, upstreamFailure, upstreamFailureText } from './forward.ts';
import { arrive, hostRefusal, unansweredStatus, type ProxyContext } from './handler.ts';
import { clientResponseHeaders, upstreamRequestHeaders } from './headers.ts';
import { LOCAL_RESPONSE_HEADERS } from './respond.ts';

type ResponseHeaders = Record<string, string | string[] | undefined>;

const SWITCHING_PROTOCOLS = 101;
const UPSTREAM_REFUSED_REASON = 'upstream refused upgrade';

/** An upgrade's socket is raw (no ServerResponse), so the proxy writes the response head itself. */
function responseHead(status: number, message: string | undefined, headers: ResponseHeaders): string {
  let text = `HTTP/1.1 ${status} ${message || STATUS_CODES[status] || ''}\r\n`;
  for (const name in headers) {
    const value = headers[name];
    if (Array.isArray(value)) for (const each of value) text += `${name}: ${each}\r\n`;
    else if (value !== undefined) text += `${name}: ${value}\r\n`;
  }
  return `${text}\r\n`;
}

function answerLocally(socket: Duplex, exchange: Exchange, status: number, text: string): void {
  const body = `${text}\n`;
  exchange.bytesOut = Buffer.byteLength(body);
  const headers = { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(exchange.bytesOut), ...LOCAL_RESPONSE_HEADERS, connection: 'close' };
  socket.end(responseHead(status, undefined, headers) + body);
}

/** Passes on what is queued for `socket`, then closes it: the other side of the tunnel is gone. */
function closeAfterFlush(socket: Duplex): void {
  if (socket.destroyed) return;
  if (socket.writableFinished) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end();
}

class UpgradeHandler implements Dispatcher.DispatchHandler {
  readonly #context: ProxyContext;
  readonly #exchange: Exchange;
  readonly #socket: Duplex;
  readonly #clientHead: Buffer;
  readonly #protocol: string;
  #controller: Dispatcher.DispatchController | undefined;
  #upstream: Duplex | undefined;
  /** The upstream's status once its answer is being relayed (101: tunnelling). */
  #status = 0;

  constructor(context: ProxyContext, exchange: Exchange, socket: Duplex, clientHead: Buffer, protocol: string) {
    this.#context = context;
    this.#exchange = exchange;
    this.#socket = socket;
    this.#clientHead = clientHead;
    this.#protocol = protocol;
    socket.once('close', this.#onClientClose);
  }

  #finish(status: number): void {
    this.#context.recorder.finish(this.#exchange, status);
  }

  #onClientClose = (): void => {
    const exchange = this.#exchange;
    if (this.#status === SWITCHING_PROTOCOLS) {
      if (this.#context.cutting) exchange.reason = SHUTTING_DOWN_REASON;
      this.#finish(SWITCHING_PROTOCOLS);
      closeAfterFlush(this.#upstream!);
      return;
    }
    if (!exchange.done) this.#finish(unansweredStatus(this.#context, exchange));
    this.#controller?.abort(new Error(CLIENT_CLOSED_REASON));
  };

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#exchange.done) controller.abort(new Error(CLIENT_CLOSED_REASON));
  }

  onRequestUpgrade(_controller: Dispatcher.DispatchController, _statusCode: number, headers: ResponseHeaders, upstream: Duplex): void {
    const socket = this.#socket;
    const exchange = this.#exchange;
    if (exchange.done) {
      upstream.destroy();
      return;
    }
    this.#status = SWITCHING_PROTOCOLS;
    this.#upstream = upstream;
    const protocol = headers.upgrade ?? this.#protocol;
    const relayed = clientResponseHeaders(headers);
    relayed.connection = 'Upgrade';
    relayed.upgrade = protocol;
    // A tunnel may be quiet for as long as its peers like; only a shutdown ends it from here.
    (socket as Socket).setTimeout(0);
    socket.write(responseHead(SWITCHING_PROTOCOLS, undefined, relayed));
    if (this.#clientHead.length > 0) {
      exchange.bytesIn += this.#clientHead.length;
      upstream.write(this.#clientHead);
    }
    socket.on('data', (chunk: Buffer) => (exchange.bytesIn += chunk.length));
    upstream.on('data', (chunk: Buffer) => (exchange.bytesOut += chunk.length));
    // Each side's end is passed on (a half-close); either side's close ends the tunnel.
    socket.pipe(upstream);
    upstream.pipe(socket);
    upstream.on('error', () => upstream.destroy());
    upstream.once('close', () => closeAfterFlush(socket));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: ResponseHeaders, statusMessage?: string): void {
    if (statusCode < 200 || this.#exchange.done) return;
    this.#status = statusCode;
    this.#exchange.reason = UPSTREAM_REFUSED_REASON;
    const relayed = clientResponseHeaders(headers);
    relayed.connection = 'close';
    this.#socket.write(responseHead(statusCode, statusMessage, relayed));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    relayChunk(controller, this.#exchange, this.#socket, chunk);
  }

  onResponseEnd(): void {
    this.#finish(this.#status);
    this.#socket.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    const exchange = this.#exchange;
    // The client went first: its close is what gets logged, not the abort it caused.
    if (exchange.done) return;
    const failure = upstreamFailure(error);
    exchange.reason = failure.reason;
    this.#finish(failure.status);
    // An answer cut short is logged as the upstream failure it is, although the client saw its head.
    if (this.#status === 0) answerLocally(this.#socket, exchange, failure.status, upstreamFailureText(failure));
    else this.#socket.destroy();
  }
}

export function createUpgradeHandler(context: ProxyContext, upgrades: Set<Duplex>): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, clientHead) => {
    const { exchange, peer, peerTrusted } = arrive(context, req, true);
    upgrades.add(socket);
    socket.once('close', () => upgrades.delete(socket));
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, reason: string) => {
      exchange.reason = reason;
      answerLocally(socket, exchange, status, reason);
      context.recorder.finish(exchange, status);
    };
    const hostProblem = hostRefusal(req);
    if (hostProblem !== undefined) return refuse(400, hostProblem);
    const match = context.router.match(exchange.host, exchange.path, req.url);
    if (match.route === undefined) return refuse(404, match.reason);
    const service = match.route.target;
    exchange.service = service.id;
    exchange.authMethod = service.authMethod;
    if (match.path.startsWith(RESERVED_PREFIX)) return refuse(404, 'unknown proxy endpoint');
    if (context.shuttingDown) return refuse(SHUTTING_DOWN_STATUS, SHUTTING_DOWN_REASON);
    if (context.recorder.refusing) return refuse(ACCESS_LOG_UNAVAILABLE_STATUS, ACCESS_LOG_UNAVAILABLE_REASON);
    const pass = () => {
      // Node emits 'upgrade' only for a request that names its protocol.
      const protocol = req.headers.upgrade!;
      const handler = new UpgradeHandler(context, exchange, socket, clientHead, protocol);
      const headers = upstreamRequestHeaders(req.rawHeaders, req.headers, exchange, peer, peerTrusted, service.dropAuthorization);
      try {
        service.pool.dispatch({ path: match.upstream, method: req.method ?? 'GET', headers, body: null, upgrade: protocol }, handler);
      } catch (error) {
        // undici rejects some requests synchronously (e.g. a header it refuses to send).
        handler.onResponseError(undefined as never, error as Error);
      }
    };
    const admitted = service.auth.admitUpgrade(req, exchange);
    if (admitted === true) return pass();
    if (admitted === false) return refuse(401, exchange.reason ?? 'login required');
    void admitted.then((ok) => {
      if (exchange.done) return;
      // The client went while its credentials were checked.
      if (socket.destroyed) return context.recorder.finish(exchange, unansweredStatus(context, exchange));
      if (ok) pass();
      else refuse(401, exchange.reason ?? 'login required');
    });
  };
}
