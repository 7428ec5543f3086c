// Peer: fastify with @fastify/http-proxy (undici to the upstream), one pino access-log line per
// request from an onResponse hook (fastify's built-in request logging writes two lines per request
// and none of the fields an access log needs, so it is off). Prints `listening <port>`.

import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';
import { accessLogger, peerOptions, requestFields } from './access-logger.ts';

const options = peerOptions();
const logger = options.log ? accessLogger(options.log, 'fastify') : undefined;
const app = Fastify({ logger: false, disableRequestLogging: true, genReqId: () => randomUUID(), keepAliveTimeout: 60_000 });
await app.register(proxy, { upstream: options.upstream });
if (logger) {
  app.addHook('onResponse', (request, reply, done) => {
    logger.info({
      id: request.id,
      ...requestFields(request.raw),
      status: reply.statusCode,
      duration_ms: reply.elapsedTime,
      bytes_out: Number(reply.getHeader('content-length') ?? 0),
    });
    done();
  });
}
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening ${(app.server.address() as AddressInfo).port}\n`);
process.on('SIGTERM', () => {
  logger?.flush();
  process.exit(0);
});
