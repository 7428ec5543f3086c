// A real WebSocket upstream for the proxy suites: node:http completes the RFC 6455 handshake and
// echoes each data frame back (client frames arrive masked, server frames go out unmasked), so a
// standard WebSocket client on the other side of the proxy validates every byte it relays.
// `/refuse` is answered as a plain request (403), `/hold` is never answered.

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OPCODE_CLOSE = 0x8;
const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;

export interface WebSocketUpstream {
  server: Server;
  url: string;
  /** Upgrade requests seen so far, in order. */
  seen: IncomingMessage[];
  close(): Promise<void>;
}

export function acceptKey(key: string): string {
  return createHash('sha1').update(`${key}${WEBSOCKET_GUID}`).digest('base64');
}

function frame(opcode: number, payload: Buffer): Buffer {
  if (payload.length >= 65_536) throw new Error('test frames stay under 64 KiB');
  const header = payload.length < 126 ? Buffer.from([0x80 | opcode, payload.length]) : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([header, payload]);
}

/** Reads complete frames off `pending`; returns what is left of an incomplete one. */
function echoFrames(socket: Duplex, pending: Buffer): Buffer {
  let buffer: Buffer = pending;
  for (;;) {
    if (buffer.length < 2) return buffer;
    const opcode = buffer[0]! & 0x0f;
    let length = buffer[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buffer.length < 4) return buffer;
      length = buffer.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      throw new Error('test frames stay under 64 KiB');
    }
    if (buffer.length < offset + 4 + length) return buffer;
    const mask = buffer.subarray(offset, offset + 4);
    const payload = Buffer.from(buffer.subarray(offset + 4, offset + 4 + length));
    for (let index = 0; index < payload.length; index++) payload[index]! ^= mask[index % 4]!;
    buffer = buffer.subarray(offset + 4 + length);
    if (opcode === OPCODE_CLOSE) {
      socket.end(frame(OPCODE_CLOSE, payload));
      return Buffer.alloc(0);
    }
    socket.write(frame(opcode === OPCODE_PING ? OPCODE_PONG : opcode, payload));
  }
}

export async function startWebSocketUpstream(): Promise<WebSocketUpstream> {
  const seen: IncomingMessage[] = [];
  // Upgraded sockets leave the server's connection tracking: closed here on close().
  const sockets = new Set<Duplex>();
  const server = createServer(
    {
      shouldUpgradeCallback: (req) => {
        seen.push(req);
        return req.url !== '/refuse';
      },
    },
    (_req, res) => {
      res.writeHead(403, { 'content-type': 'text/plain', 'x-upstream': 'refused' }).end('no sockets here');
    },
  );
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    if (req.url === '/hold') return;
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade, X-Upstream-Hop\r\nX-Upstream-Hop: dropped\r\n' +
        `X-Upstream: kept\r\nSec-WebSocket-Accept: ${acceptKey(String(req.headers['sec-websocket-key']))}\r\n\r\n`,
    );
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => (pending = echoFrames(socket, Buffer.concat([pending, chunk]))));
    socket.on('end', () => socket.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
