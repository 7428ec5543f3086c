// Requests refused before routing: what Node's HTTP parser rejects (malformed, oversized, too slow),
// plain HTTP sent to the TLS listener, and CONNECT. Node stops answering parser errors once a
// `clientError` listener exists, so they are answered here exactly as Node would (status line and
// `Connection: close`, no body), and each gets its own access-log line with what could be read of
// the request. A connection that sent no bytes of a request is not a request: closed, no line.
// A parser error inside a request body belongs to that request: its own line (written when its
// response closes) takes the status and reason from here.

import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Protocol } from '../common/access-record.ts';
import { peerAddress } from './client-ip.ts';
import { Exchange, type Recorder } from './exchange.ts';
import { readRequestHead } from './request-head.ts';
import { hostOf, pathOf, targetAuthority } from './routing.ts';

interface Refusal {
  status: number;
  reason: string;
}

interface ParserError extends Error {
  code?: string;
  /** llhttp's own words, e.g. "Duplicate Content-Length". */
  reason?: string;
  bytesParsed?: number;
  rawPacket?: Buffer;
}

/** Node's view of the socket's parser: the request whose head was parsed last, body maybe still coming. */
interface ParsedSocket extends Socket {
  parser?: { incoming?: IncomingMessage | null } | null;
  _httpMessage?: { headersSent: boolean } | null;
}

export const PLAIN_HTTP_ON_TLS_REASON = 'plain HTTP request sent to the TLS port';
export const CONNECT_REASON = 'CONNECT not supported';

/**
 * The client or the network ended the connection (HPE_INVALID_EOF_STATE: the client closed its side
 * mid-request): nothing is refused and no answer can reach it. A request already under way is
 * logged by its own close (499).
 */
const CONNECTION_GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'HPE_INVALID_EOF_STATE']);
/** A refused request's path can be the whole oversized URI; the line keeps this much of it. */
const REFUSED_PATH_MAX_LENGTH = 2048;

function refusalOf(error: ParserError, inBody: boolean, requestLineEnded: boolean): Refusal {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, reason: requestLineEnded ? 'request headers too large' : 'request URI too long' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, reason: 'chunk extensions too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: inBody ? 'request timeout' : 'request header timeout' };
  }
  const words = error.reason ?? '';
  if (/content-length/i.test(words) && /transfer-encoding/i.test(words)) return { status: 400, reason: 'conflicting Content-Length and Transfer-Encoding' };
  if (/duplicate content-length/i.test(words)) return { status: 400, reason: 'duplicate Content-Length' };
  return { status: 400, reason: inBody ? 'malformed request body' : 'malformed request' };
}

function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`;
}

/** Answers as Node's own handler does: only when no response has started on this connection. */
function answerAndClose(socket: ParsedSocket, status: number): void {
  const inFlight = socket._httpMessage;
  if (socket.writable && (inFlight == null || !inFlight.headersSent)) socket.write(statusLine(status));
  socket.destroy();
}

/** Called before the socket closes: a destroyed socket no longer knows its peer's address. */
function record(recorder: Recorder, socket: Socket, protocol: Protocol, method: string, host: string, target: string, userAgent: string | undefined, refusal: Refusal): void {
  const path = target.length === 0 ? '' : pathOf(target).slice(0, REFUSED_PATH_MAX_LENGTH);
  const exchange = new Exchange(randomUUID(), method, host, path, peerAddress(socket.remoteAddress), protocol, userAgent);
  exchange.reason = refusal.reason;
  recorder.begin();
  recorder.finish(exchange, refusal.status);
}

const bodyRefusals = new WeakMap<IncomingMessage, Refusal>();

/** For a request whose body the parser refused: its status (the reason set on the exchange), else undefined. */
export function bodyRefusalStatus(req: IncomingMessage, exchange: Exchange): number | undefined {
  const refusal = bodyRefusals.get(req);
  if (refusal === undefined) return undefined;
  exchange.reason = refusal.reason;
  return refusal.status;
}

export function watchRefusals(server: Server, recorder: Recorder, tls: boolean): void {
  server.on('clientError', (error: ParserError, duplex: Duplex) => {
    const socket = duplex as ParsedSocket;
    if (error.code !== undefined && CONNECTION_GONE.has(error.code)) {
      socket.destroy();
      return;
    }
    const current = socket.parser?.incoming;
    const inBody = current != null && !current.complete;
    if (inBody) {
      const refusal = refusalOf(error, true, true);
      bodyRefusals.set(current, refusal);
      answerAndClose(socket, refusal.status);
      return;
    }
    // A connection that never sent a byte asked nothing: answered as Node does, without a line.
    if (socket.bytesRead === 0) {
      answerAndClose(socket, refusalOf(error, false, false).status);
      return;
    }
    const head = readRequestHead(error.rawPacket, error.bytesParsed);
    const refusal = refusalOf(error, false, head.requestLineEnded);
    const host = hostOf(targetAuthority(head.target) ?? head.host);
    record(recorder, socket, tls ? 'https' : 'http', head.method, host, head.target, head.userAgent, refusal);
    answerAndClose(socket, refusal.status);
  });

  if (tls) {
    server.on('tlsClientError', (error: ParserError, socket: Socket) => {
      // A handshake that failed or never came is no request; plain HTTP is one, refused as nginx does.
      if (error.code !== 'ERR_SSL_HTTP_REQUEST') return;
      // The TLS layer has failed, so the answer goes out in plain text on the TCP socket beneath it.
      const raw = (socket as Socket & { _parent?: Socket | null })._parent;
      record(recorder, raw ?? socket, 'http', '', '', '', undefined, { status: 400, reason: PLAIN_HTTP_ON_TLS_REASON });
      if (raw?.writable) raw.end(statusLine(400));
    });
  }

  // The proxy is no forward proxy; without this listener Node drops a CONNECT without a word.
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    const refusal = { status: 405, reason: CONNECT_REASON };
    record(recorder, req.socket, tls ? 'https' : 'http', req.method ?? 'CONNECT', hostOf(req.url), '', req.headers['user-agent'], refusal);
    socket.on('error', () => socket.destroy());
    socket.end(statusLine(405));
  });
}
