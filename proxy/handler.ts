// The per-request flow: who is asking (client IP, request id, scheme), which service (Host and path), may
// they (auth), then forward. The access-log line is written from the response's `close`, which
// Node emits exactly once whether the response finished, the client left, or the socket died.

import { randomUUID } from 'node:crypto';
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Protocol } from '../common/access-record.ts';
import { RESERVED_PREFIX } from './auth/endpoints.ts';
import { ClientIpResolver, peerAddress } from './client-ip.ts';
import { ACCESS_LOG_UNAVAILABLE_REASON, ACCESS_LOG_UNAVAILABLE_STATUS, CLIENT_CLOSED_REASON, CLIENT_CLOSED_STATUS, Exchange, Recorder, SHUTTING_DOWN_REASON, SHUTTING_DOWN_STATUS } from './exchange.ts';
import { forward } from './forward.ts';
import { upstreamRequestHeaders } from './headers.ts';
import { sendText } from './respond.ts';
import { bodyRefusalStatus } from './refusals.ts';
import { hostHeaderCount, hostOf, pathOf, targetAuthority, type Router } from './routing.ts';
import type { Service } from './services.ts';

const REQUEST_ID = /^[A-Za-z0-9._:@+=\/-]{1,200}$/;

export const DUPLICATE_HOST_REASON = 'duplicate Host header';
export const MISSING_HOST_REASON = 'missing Host header';
export const UNSUPPORTED_EXPECTATION_REASON = 'unsupported Expect header';

export interface ProxyContext {
  router: Router<Service>;
  recorder: Recorder;
  clientIps: ClientIpResolver;
  tls: boolean;
  shuttingDown: boolean;
  /** Set when the shutdown timeout is over and remaining connections are being cut. */
  cutting: boolean;
}

/**
 * The server's response class: it carries its exchange, so one `close` listener shared by every
 * response writes the line, instead of a closure and a once-wrapper made for each request.
 */
export class ProxyResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  exchange: Exchange | undefined = undefined;
}

export interface Arrival {
  exchange: Exchange;
  peer: string;
  peerTrusted: boolean;
}

function firstValue(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const comma = text.indexOf(',');
  return (comma === -1 ? text : text.slice(0, comma)).trim().toLowerCase();
}

export function arrive(context: ProxyContext, req: IncomingMessage, upgrade: boolean): Arrival {
  const peer = peerAddress(req.socket.remoteAddress);
  const peerTrusted = context.clientIps.isTrusted(peer);
  let secure = context.tls;
  let id: string | undefined;
  let sourceIp = peer;
  if (peerTrusted) {
    sourceIp = context.clientIps.resolve(peer, req.headers['x-forwarded-for']);
    const proto = firstValue(req.headers['x-forwarded-proto']);
    if (proto === 'https' || proto === 'wss') secure = true;
    else if (proto === 'http' || proto === 'ws') secure = false;
    const given = req.headers['x-request-id'];
    if (typeof given === 'string' && REQUEST_ID.test(given)) id = given;
  }
  const url = req.url ?? '/';
  if (url.charCodeAt(0) !== 47 /* / */) {
    // RFC 9112 §3.2.2: an absolute-form target's authority replaces the Host header, for routing,
    // the log and X-Forwarded-Host alike.
    const authority = targetAuthority(url);
    if (authority !== undefined) req.headers.host = authority;
  }
  const protocol: Protocol = upgrade ? (secure ? 'wss' : 'ws') : secure ? 'https' : 'http';
  const exchange = new Exchange(id ?? randomUUID(), req.method ?? 'GET', hostOf(req.headers.host), pathOf(req.url), sourceIp, protocol, req.headers['user-agent']);
  context.recorder.begin();
  return { exchange, peer, peerTrusted };
}

/** RFC 9112 §3.2: an HTTP/1.1 request carries exactly one Host header; anything else is a 400 with this reason. */
export function hostRefusal(req: IncomingMessage): string | undefined {
  const count = hostHeaderCount(req.rawHeaders);
  if (count > 1) return DUPLICATE_HOST_REASON;
  if (count === 0 && req.httpVersionMajor === 1 && req.httpVersionMinor === 1) return MISSING_HOST_REASON;
  return undefined;
}

/** The status of an exchange whose client connection closed before its answer was complete: cut at shutdown, or the client left. */
export function unansweredStatus(context: ProxyContext, exchange: Exchange): number {
  if (context.cutting) {
    exchange.reason = SHUTTING_DOWN_REASON;
    return SHUTTING_DOWN_STATUS;
  }
  exchange.reason = CLIENT_CLOSED_REASON;
  return CLIENT_CLOSED_STATUS;
}

function onClose(context: ProxyContext, res: ServerResponse, exchange: Exchange): void {
  let status: number;
  if (exchange.failStatus !== 0) status = exchange.failStatus;
  else if (res.writableFinished) status = res.statusCode;
  else status = bodyRefusalStatus(res.req, exchange) ?? unansweredStatus(context, exchange);
  context.recorder.finish(exchange, status);
  // After the line is written: the abort reports back through the forward handler, which must
  // then see the exchange as done.
  if (!res.writableFinished) exchange.upstream?.cancel();
}

function pass(service: Service, upstreamPath: string, req: IncomingMessage, res: ServerResponse, exchange: Exchange, peer: string, peerTrusted: boolean): void {
  const headers = upstreamRequestHeaders(req.rawHeaders, req.headers, exchange, peer, peerTrusted, service.dropAuthorization);
  forward(service.pool, req, res, exchange, upstreamPath, headers);
}

/** Node emits `close` once per response, whether it finished, the client left or the socket died. */
function closeListener(context: ProxyContext): (this: ProxyResponse) => void {
  return function onResponseClose(this: ProxyResponse) {
    onClose(context, this, this.exchange!);
  };
}

export function createRequestHandler(context: ProxyContext): (req: IncomingMessage, res: ProxyResponse) => void {
  const onResponseClose = closeListener(context);
  return (req, res) => {
    const { exchange, peer, peerTrusted } = arrive(context, req, false);
    res.exchange = exchange;
    res.on('close', onResponseClose);
    if (context.shuttingDown) res.shouldKeepAlive = false;
    const refusal = hostRefusal(req);
    if (refusal !== undefined) {
      exchange.reason = refusal;
      sendText(res, exchange, 400, refusal, { connection: 'close' });
      return;
    }
    const match = context.router.match(exchange.host, exchange.path, req.url);
    if (match.route === undefined) {
      exchange.reason = match.reason;
      sendText(res, exchange, 404, match.reason);
      return;
    }
    const service = match.route.target;
    exchange.service = service.id;
    exchange.authMethod = service.authMethod;
    if (context.recorder.refusing) {
      exchange.reason = ACCESS_LOG_UNAVAILABLE_REASON;
      sendText(res, exchange, ACCESS_LOG_UNAVAILABLE_STATUS, ACCESS_LOG_UNAVAILABLE_REASON);
      return;
    }
    if (match.path.startsWith(RESERVED_PREFIX)) {
      service.auth.endpoint(req, res, exchange, match.path);
      return;
    }
    const admitted = service.auth.admit(req, res, exchange);
    if (admitted === true) pass(service, match.upstream, req, res, exchange, peer, peerTrusted);
    else if (admitted !== false) void admitted.then((ok) => ok && !exchange.done && pass(service, match.upstream, req, res, exchange, peer, peerTrusted));
  };
}

/**
 * An `Expect` other than 100-continue, which Node would answer 417 without a `request` event (and
 * so without a line): answered 417 here and recorded like any request.
 */
export function createExpectationHandler(context: ProxyContext): (req: IncomingMessage, res: ProxyResponse) => void {
  const onResponseClose = closeListener(context);
  return (req, res) => {
    const { exchange } = arrive(context, req, false);
    res.exchange = exchange;
    res.on('close', onResponseClose);
    const service = context.router.match(exchange.host, exchange.path, req.url).route?.target;
    if (service !== undefined) {
      exchange.service = service.id;
      exchange.authMethod = service.authMethod;
    }
    exchange.reason = UNSUPPORTED_EXPECTATION_REASON;
    sendText(res, exchange, 417, UNSUPPORTED_EXPECTATION_REASON);
  };
}
