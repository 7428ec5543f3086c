// Every response the proxy writes itself (errors, login pages, redirects, refused upgrades) carries
// the same protective headers: no framing (clickjacking of the login forms), no caching, no
// Referer, and a Content-Security-Policy that allows the login page exactly its own inline style.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { hashSecret } from '../../proxy/secret-hash.ts';
import { removeDir, serviceConfig, startTestProxy, startUpstream, type TestProxy, type Upstream } from './helpers.ts';

type Headers = Record<string, string | string[] | undefined>;

function assertProtected(headers: Headers, what: string): void {
  const policy = String(headers['content-security-policy']);
  assert.match(policy, /frame-ancestors 'none'/, `${what}: CSP frame-ancestors`);
  assert.match(policy, /default-src 'none'/, `${what}: CSP default-src`);
  assert.equal(headers['x-frame-options'], 'DENY', `${what}: X-Frame-Options`);
  assert.equal(headers['cache-control'], 'no-store', `${what}: Cache-Control`);
  assert.equal(headers['referrer-policy'], 'no-referrer', `${what}: Referrer-Policy`);
}

/** The head of a raw HTTP answer as lower-cased name → value. */
function parseHead(text: string): { status: number; headers: Headers } {
  const [statusLine, ...lines] = text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n');
  const headers: Headers = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine!.split(' ')[1]), headers };
}

describe('pages the proxy writes itself', () => {
  let upstream: Upstream;
  let proxy: TestProxy;

  before(async () => {
    upstream = await startUpstream();
    proxy = await startTestProxy({
      services: [
        serviceConfig('app', upstream.url),
        serviceConfig('wiki', upstream.url, { method: 'password', hash: await hashSecret('correct horse') }),
        serviceConfig('refused', 'http://127.0.0.1:1'),
      ],
    });
  });

  after(async () => {
    await proxy.stop();
    await upstream.close();
    await removeDir(proxy.logDir);
  });

  const cases: Array<{ what: string; host: string; path: string; method?: 'GET' | 'POST'; status: number }> = [
    { what: 'unknown host', host: 'nobody.test', path: '/', status: 404 },
    { what: 'login page', host: 'wiki.test', path: '/docs', status: 401 },
    { what: 'login form', host: 'wiki.test', path: '/.proxy/login', status: 200 },
    { what: 'login required (not GET)', host: 'wiki.test', path: '/docs', method: 'POST', status: 401 },
    { what: 'wrong password page', host: 'wiki.test', path: '/.proxy/login', method: 'POST', status: 401 },
    { what: 'unknown proxy endpoint', host: 'app.test', path: '/.proxy/nothing', status: 404 },
    { what: 'logout redirect', host: 'app.test', path: '/.proxy/logout', status: 303 },
    { what: 'upstream unreachable', host: 'refused.test', path: '/', status: 502 },
  ];

  for (const each of cases) {
    test(`${each.what}: ${each.status} with the protective headers`, async () => {
      const method = each.method ?? 'GET';
      const body = method === 'POST' ? 'password=wrong' : undefined;
      const response = await request(`${proxy.url}${each.path}`, {
        method,
        body,
        headers: { host: each.host, ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }) },
      });
      await response.body.text();
      assert.equal(response.statusCode, each.status);
      assertProtected(response.headers, each.what);
    });
  }

  test("the login page's policy admits its own inline style (by hash) and its form, and nothing else", async () => {
    const response = await request(`${proxy.url}/.proxy/login`, { headers: { host: 'wiki.test' } });
    const page = await response.body.text();
    const policy = String(response.headers['content-security-policy']);
    const style = /<style>([\s\S]*?)<\/style>/.exec(page)![1]!;
    assert.ok(policy.includes(`style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'`), policy);
    assert.match(policy, /form-action 'self'/);
    assert.doesNotMatch(policy, /unsafe-inline|script-src/);
    assert.doesNotMatch(page, /<script|style="/);
  });

  test('a refused WebSocket upgrade carries them too', async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect(proxy.proxy.port, '127.0.0.1');
      let answer = '';
      socket.write('GET /ws HTTP/1.1\r\nHost: wiki.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      socket.on('error', reject);
      socket.once('close', () => resolve(answer));
      setTimeout(() => socket.destroy(), 5_000).unref();
    });
    const { status, headers } = parseHead(text);
    assert.equal(status, 401);
    assertProtected(headers, 'refused upgrade');
  });
});
