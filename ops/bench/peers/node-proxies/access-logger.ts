// What an operator of a Node proxy would add for an access log: pino writing one JSON line per
// request to a file through SonicBoom (asynchronous, as the proxy's own writer), and the
// command-line both Node peers share.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import pino from 'pino';

export function peerOptions(): { upstream: string; log: string | undefined } {
  const { values } = parseArgs({ options: { upstream: { type: 'string' }, log: { type: 'string' } } });
  if (!values.upstream) throw new Error('--upstream is required');
  return { upstream: values.upstream, log: values.log };
}

export function accessLogger(file: string, proxy: string): pino.Logger {
  return pino({ base: { proxy }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: file, sync: false }));
}

export function requestFields(req: IncomingMessage) {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return {
    method: req.method,
    host: req.headers.host,
    path: query === -1 ? url : url.slice(0, query),
    source_ip: req.socket.remoteAddress,
    user_agent: req.headers['user-agent'],
  };
}

/** Writes the request's line once its response is done (or cut). */
export function logOnClose(logger: pino.Logger, id: string, req: IncomingMessage, res: ServerResponse): void {
  const began = performance.now();
  res.once('close', () => {
    logger.info({
      id,
      ...requestFields(req),
      status: res.statusCode,
      duration_ms: performance.now() - began,
      bytes_out: Number(res.getHeader('content-length') ?? 0),
    });
  });
}
