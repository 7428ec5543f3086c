// What an operator of a Node proxy would add for an access log: pino writing one JSON line per
// request to a file through SonicBoom (asynchronous, as the proxy's own writer), and the
// command-line both Node peers share.

import type { IncomingMessage } from 'node:http';
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
