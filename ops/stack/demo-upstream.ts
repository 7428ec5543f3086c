// The demo upstream behind every example service of `npm start`: a small internal app with a few
// endpoints that make realistic traffic (pages, JSON, uploads, slow answers, chosen statuses).

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '9401' }, host: { type: 'string', default: '127.0.0.1' } } });

const SLOWEST_MS = 120_000;

function page(req: IncomingMessage): string {
  const shown = ['host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'user-agent'];
  const rows = shown.map((name) => `<tr><th>${name}</th><td>${escapeHtml(String(req.headers[name] ?? ''))}</td></tr>`).join('');
  return `<!doctype html><meta charset="utf-8"><title>Demo internal service</title>
<body style="font-family:system-ui;margin:2rem"><h1>Demo internal service</h1>
<p>You reached the upstream through the proxy. Headers it received:</p><table>${rows}</table></body>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  if (status === 204 || status === 304) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://upstream');
  let received = 0;
  req.on('data', (chunk: Buffer) => (received += chunk.length));
  req.on('end', () => {
    const status = /^\/status\/(\d{3})$/.exec(url.pathname);
    if (status) return send(res, Number(status[1]), 'application/json', JSON.stringify({ status: Number(status[1]) }));
    if (url.pathname === '/slow') {
      const ms = Math.min(Number(url.searchParams.get('ms')) || 1_000, SLOWEST_MS);
      const timer = setTimeout(() => send(res, 200, 'application/json', JSON.stringify({ waited_ms: ms })), ms);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if (url.pathname.startsWith('/api/')) {
      const items = Array.from({ length: 20 }, (_, i) => ({ id: i + 1, name: `item ${i + 1}` }));
      return send(res, 200, 'application/json', JSON.stringify({ path: url.pathname, received_bytes: received, items }));
    }
    if (url.pathname === '/download') {
      const size = Math.min(Number(url.searchParams.get('bytes')) || 65_536, 16 * 1024 * 1024);
      return send(res, 200, 'application/octet-stream', 'x'.repeat(size));
    }
    send(res, 200, 'text/html; charset=utf-8', page(req));
  });
});

server.listen(Number(values.port), values.host, () => console.log(`demo upstream listening on http://${values.host}:${values.port}`));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
