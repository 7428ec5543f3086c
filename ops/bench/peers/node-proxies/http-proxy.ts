// Peer: the `http-proxy` package behind node:http, keep-alive agent to the upstream, pino access
// log. Prints `listening <port>` once it accepts connections on 127.0.0.1.

import { randomUUID } from 'node:crypto';
import { Agent, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import httpProxy from 'http-proxy';
import { accessLogger, logOnClose, peerOptions } from './access-logger.ts';

const options = peerOptions();
const logger = options.log ? accessLogger(options.log, 'http-proxy') : undefined;
const proxy = httpProxy.createProxyServer({ target: options.upstream, agent: new Agent({ keepAlive: true, maxSockets: 128 }), xfwd: true });
proxy.on('error', (_error, _req, res) => {
  if (!res.headersSent) res.writeHead(502);
  res.end();
});

const server = createServer((req, res) => {
  const id = randomUUID();
  req.headers['x-request-id'] = id;
  if (logger) logOnClose(logger, id, req, res);
  proxy.web(req, res);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => {
  logger?.flush();
  process.exit(0);
});
