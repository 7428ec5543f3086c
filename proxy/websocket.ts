// WebSocket upgrades: authenticated like any request (by session cookie: there is no page to show
// on an upgrade), then tunnelled byte for byte to the upstream. Logged once, when the tunnel
// closes: status 101 and the connection's whole duration. A refused upgrade is logged with the
// upstream's status.

import { request as httpRequest, STATUS_CODES, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { RESERVED_PREFIX } from './auth/endpoints.ts';
import { CLIENT_CLOSED_REASON, CLIENT_CLOSED_STATUS, type Exchange } from './exchange.ts';
import { upstreamFailure } from './forward.ts';
import { arrive, type ProxyContext } from './handler.ts';
import { upstreamRequestHeaders } from './headers.ts';
import { upstreamTarget } from './routing.ts';

function rawResponse(socket: Duplex, exchange: Exchange, status: number, text: string): void {
  const body = `${text}\n`;
  exchange.bytesOut = Buffer.byteLength(body);
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${exchange.bytesOut}\r\nConnection: close\r\n\r\n${body}`);
}

function head(status: number, message: string | undefined, rawHeaders: string[]): string {
  let text = `HTTP/1.1 ${status} ${message ?? STATUS_CODES[status] ?? ''}\r\n`;
  for (let index = 0; index < rawHeaders.length; index += 2) text += `${rawHeaders[index]}: ${rawHeaders[index + 1]}\r\n`;
  return `${text}\r\n`;
}

export function createUpgradeHandler(context: ProxyContext, tunnels: Set<Duplex>): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, clientHead) => {
    const { exchange, peer, peerTrusted } = arrive(context, req, true);
    const finish = (status: number) => context.recorder.finish(exchange, status);
    socket.on('error', () => socket.destroy());
    const service = context.router.match(exchange.host);
    const refuse = (status: number, reason: string) => {
      exchange.reason = reason;
      rawResponse(socket, exchange, status, reason);
      finish(status);
    };
    if (service === undefined) return refuse(404, 'unknown host');
    exchange.service = service.id;
    exchange.authMethod = service.authMethod;
    if (exchange.path.startsWith(RESERVED_PREFIX)) return refuse(404, 'unknown proxy endpoint');
    if (context.shuttingDown) return refuse(503, 'proxy shutting down');
    if (!service.auth.admitUpgrade(req, exchange)) return refuse(401, exchange.reason ?? 'login required');
    const upstream = new URL(service.config.upstream);
    const headers = upstreamRequestHeaders(req.rawHeaders, req.headers, exchange, peer, peerTrusted, true);
    headers.push('host', upstream.host);
    const timeouts = service.config.upstream_timeouts;
    const request = (upstream.protocol === 'https:' ? httpsRequest : httpRequest)({
      protocol: upstream.protocol,
      hostname: upstream.hostname.replace(/^\[|\]$/g, ''),
      port: upstream.port,
      method: req.method,
      path: upstreamTarget(req.url),
      headers,
      agent: false,
      timeout: timeouts.connect_ms,
    });
    let timeoutReason = 'upstream connect timeout';
    request.on('socket', (upstreamSocket) => {
      upstreamSocket.once('connect', () => {
        timeoutReason = 'upstream headers timeout';
        request.setTimeout(timeouts.headers_ms);
      });
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error(timeoutReason), { code: timeoutReason === 'upstream connect timeout' ? 'UND_ERR_CONNECT_TIMEOUT' : 'UND_ERR_HEADERS_TIMEOUT' })));
    const onClientGone = () => {
      request.destroy();
      exchange.reason = CLIENT_CLOSED_REASON;
      finish(CLIENT_CLOSED_STATUS);
    };
    socket.once('close', onClientGone);
    request.on('error', (error) => {
      if (exchange.done) return;
      socket.off('close', onClientGone);
      const failure = upstreamFailure(error);
      exchange.reason = failure.reason;
      rawResponse(socket, exchange, failure.status, failure.status === 504 ? 'upstream timed out' : 'upstream unavailable');
      finish(failure.status);
    });
    request.on('response', (response) => {
      socket.off('close', onClientGone);
      exchange.reason = 'upstream refused upgrade';
      socket.write(head(response.statusCode ?? 502, response.statusMessage, response.rawHeaders.concat('connection', 'close')));
      response.on('data', (chunk: Buffer) => (exchange.bytesOut += chunk.length));
      response.pipe(socket);
      socket.once('close', () => finish(response.statusCode ?? 502));
    });
    request.on('upgrade', (response, upstreamSocket, upstreamHead) => {
      socket.off('close', onClientGone);
      request.setTimeout(0);
      upstreamSocket.setTimeout(0);
      (socket as Socket).setTimeout(0);
      tunnels.add(socket);
      socket.write(head(101, response.statusMessage, response.rawHeaders));
      if (upstreamHead.length > 0) {
        exchange.bytesOut += upstreamHead.length;
        socket.write(upstreamHead);
      }
      if (clientHead.length > 0) {
        exchange.bytesIn += clientHead.length;
        upstreamSocket.write(clientHead);
      }
      socket.on('data', (chunk: Buffer) => (exchange.bytesIn += chunk.length));
      upstreamSocket.on('data', (chunk: Buffer) => (exchange.bytesOut += chunk.length));
      // Each side's end is passed on (a half-close), and either side's close ends the tunnel.
      socket.pipe(upstreamSocket);
      upstreamSocket.pipe(socket);
      const close = () => {
        socket.destroy();
        upstreamSocket.destroy();
        tunnels.delete(socket);
        finish(101);
      };
      upstreamSocket.on('error', close);
      upstreamSocket.once('close', close);
      socket.once('close', close);
    });
    request.end();
  };
}
