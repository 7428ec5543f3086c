// The benchmark's upstream, also the demo upstream of examples/proxy.config.json: as fast as
// node:http gets, a small fixed body (64 KiB under /64k, for the peer benchmark).
// `--port N` (default: any free port); prints its port.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });

const small = Buffer.from('{"ok":true,"service":"bench"}');
const large = Buffer.alloc(64 * 1024, 'x');
const server = createServer((req, res) => {
  req.resume();
  const body = req.url!.startsWith('/64k') ? large : small;
  res.writeHead(200, { 'content-type': body === small ? 'application/json' : 'application/octet-stream', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(Number(values.port), '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => process.exit(0));
