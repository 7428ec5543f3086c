// Peer: the least a Node reverse proxy with an access log can be — node:http in front, one undici
// Pool to the upstream with `Pool.stream` writing the upstream's body straight into the response,
// one pino line per request, no auth. The reference for what this runtime can do per core.
// Prints `listening <port>`.

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, type Dispatcher } from 'undici';
import { accessLogger, logOnClose, peerOptions } from './access-logger.ts';

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

const options = peerOptions();
const logger = options.log ? accessLogger(options.log, 'undici') : undefined;
const pool = new Pool(options.upstream, { connections: 128, keepAliveTimeout: 60_000 });

function withoutHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  for (const name of HOP_BY_HOP) delete headers[name];
  return headers;
}

interface Opaque {
  res: ServerResponse;
}

function respond({ statusCode, headers, opaque }: Dispatcher.StreamFactoryData<Opaque>) {
  opaque.res.writeHead(statusCode, withoutHopByHop(headers));
  return opaque.res;
}

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const id = randomUUID();
  if (logger) logOnClose(logger, id, req, res);
  const headers = withoutHopByHop({ ...req.headers });
  headers['x-forwarded-for'] = req.socket.remoteAddress;
  headers['x-request-id'] = id;
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  pool.stream({ path: req.url!, method: req.method as Dispatcher.HttpMethod, headers, body: hasBody ? req : null, opaque: { res } }, respond, (error) => {
    if (error && !res.headersSent) res.writeHead(502).end();
    else if (error) res.destroy();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => {
  logger?.flush();
  process.exit(0);
});
