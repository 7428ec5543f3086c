// Forwarding through the proxy to real upstreams: headers, bodies, redirects, failures (404, 502,
// 504, 499), client IPs behind trusted and untrusted proxies; each checked in the access-log line
// read back from disk. WebSocket upgrades have their own suite (websocket.test.ts).

import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { within } from '../helpers/wait.ts';
import { removeDir, serviceConfig, startTestProxy, startUpstream, waitForRecord, waitForRecords, type TestProxy, type Upstream } from './helpers.ts';

describe('forwarding', () => {
  let upstream: Upstream;
  let hold: Upstream;
  let reset: Upstream;
  let proxy: TestProxy;
  const held: Array<() => void> = [];

  before(async () => {
    upstream = await startUpstream((seen, res) => {
      if (seen.url.startsWith('/redirect')) {
        res.writeHead(302, { location: 'https://elsewhere.example/landing?x=1' }).end();
      } else if (seen.url === '/download') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(Buffer.alloc(3 * 1024 * 1024, 7));
      } else if (seen.url === '/no-content') {
        // Invalid but seen in the wild: a Content-Length on a 204.
        res.writeHead(204, { 'content-length': '14' }).end();
      } else if (seen.url === '/hop') {
        res.writeHead(200, { connection: 'x-upstream-hop', 'x-upstream-hop': 'secret', 'keep-alive': 'timeout=5', 'x-kept': 'yes' }).end('ok');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ url: seen.url, headers: seen.headers, bodyLength: seen.body.length }));
      }
    });
    hold = await startUpstream((seen, res) => {
      if (seen.url === '/partial') {
        res.writeHead(200, { 'content-length': '1000' });
        res.write('only part of it');
      }
      held.push(() => res.destroy());
    });
    reset = await startUpstream((_seen, _res, req) => req.socket.destroy());
    proxy = await startTestProxy({
      trusted_proxies: ['127.0.0.1', '10.0.0.0/8'],
      services: [
        serviceConfig('app', upstream.url),
        serviceConfig('slow', hold.url, { method: 'none' }, { upstream_timeouts: { connect_ms: 1000, headers_ms: 300, body_ms: 300 } }),
        serviceConfig('reset', reset.url),
        serviceConfig('refused', 'http://127.0.0.1:1'),
      ],
    });
  });

  after(async () => {
    await proxy.stop();
    for (const release of held) release();
    await Promise.all([upstream.close(), hold.close(), reset.close()]);
    await removeDir(proxy.logDir);
  });

  const get = (host: string, path: string, headers: Record<string, string> = {}) => request(`${proxy.url}${path}`, { headers: { host, ...headers } });
  const recordFor = (id: string) => waitForRecord(proxy.logDir, id);

  test('forwards with X-Forwarded-* and X-Request-Id, strips hop-by-hop headers, logs the path without query', async () => {
    const port = new URL(proxy.url).port;
    const echoed = await within(
      'the echo through the proxy',
      new Promise<{ url: string; headers: Record<string, string> }>((resolve, reject) => {
        const headers = { host: 'APP.test:8443', connection: 'x-client-hop', 'x-client-hop': '1', 'user-agent': 'forwarding-test' };
        httpRequest({ host: '127.0.0.1', port, path: '/a/b?token=abc', headers }, (response) => {
          assert.equal(response.statusCode, 200);
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve(JSON.parse(body)));
        })
          .on('error', reject)
          .end();
      }),
    );
    assert.equal(echoed.url, '/a/b?token=abc');
    assert.equal(echoed.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(echoed.headers['x-forwarded-proto'], 'http');
    assert.equal(echoed.headers['x-forwarded-host'], 'APP.test:8443');
    assert.equal(echoed.headers['x-client-hop'], undefined);
    const id = echoed.headers['x-request-id']!;
    assert.match(id, /^[0-9a-f-]{36}$/);
    const record = await recordFor(id);
    assert.equal(record.service, 'app');
    assert.equal(record.host, 'app.test');
    assert.equal(record.path, '/a/b');
    assert.equal(record.status, 200);
    assert.equal(record.auth_method, 'none');
    assert.equal(record.protocol, 'http');
    assert.equal(record.proxy, 'test-proxy');
    assert.equal(record.user_agent, 'forwarding-test');
    assert.equal(record.reason, undefined);
  });

  test('drops hop-by-hop response headers, keeps the rest', async () => {
    const response = await get('app.test', '/hop');
    assert.equal(response.headers['x-upstream-hop'], undefined);
    assert.equal(response.headers['x-kept'], 'yes');
    await response.body.text();
  });

  test('streams request and response bodies and counts their bytes', async () => {
    const upload = Buffer.alloc(2 * 1024 * 1024, 1);
    const posted = await request(`${proxy.url}/upload`, { method: 'POST', body: upload, headers: { host: 'app.test', 'x-request-id': 'upload-1' } });
    const echoed = (await posted.body.json()) as { bodyLength: number; headers: Record<string, string> };
    assert.equal(echoed.bodyLength, upload.length);
    // 127.0.0.1 is a trusted proxy here, so its request id is kept.
    assert.equal(echoed.headers['x-request-id'], 'upload-1');
    const uploadRecord = await recordFor('upload-1');
    assert.equal(uploadRecord.bytes_in, upload.length);

    const downloaded = await get('app.test', '/download', { 'x-request-id': 'download-1' });
    assert.equal((await downloaded.body.arrayBuffer()).byteLength, 3 * 1024 * 1024);
    assert.equal((await recordFor('download-1')).bytes_out, 3 * 1024 * 1024);
  });

  test('passes redirects through untouched', async () => {
    const response = await get('app.test', '/redirect', { 'x-request-id': 'redirect-1' });
    assert.equal(response.statusCode, 302);
    assert.equal(response.headers.location, 'https://elsewhere.example/landing?x=1');
    await response.body.text();
    assert.equal((await recordFor('redirect-1')).status, 302);
  });

  test('unknown host: 404, logged without service', async () => {
    const response = await get('nobody.test', '/x', { 'x-request-id': 'unknown-1' });
    assert.equal(response.statusCode, 404);
    await response.body.text();
    const record = await recordFor('unknown-1');
    assert.equal(record.status, 404);
    assert.equal(record.service, undefined);
    assert.equal(record.reason, 'unknown host');
  });

  test('reserved prefix is answered by the proxy, never forwarded', async () => {
    const response = await get('app.test', '/.proxy/anything', { 'x-request-id': 'reserved-1' });
    assert.equal(response.statusCode, 404);
    assert.equal(await response.body.text(), 'not found\n');
  });

  test('upstream refused: 502 with reason', async () => {
    const response = await get('refused.test', '/', { 'x-request-id': 'refused-1' });
    assert.equal(response.statusCode, 502);
    await response.body.text();
    const record = await recordFor('refused-1');
    assert.equal(record.status, 502);
    assert.equal(record.reason, 'upstream connection refused');
  });

  test('upstream reset: 502 with reason', async () => {
    const response = await get('reset.test', '/', { 'x-request-id': 'reset-1' });
    assert.equal(response.statusCode, 502);
    await response.body.text();
    assert.equal((await recordFor('reset-1')).reason, 'upstream connection reset');
  });

  test('upstream headers timeout: 504 with reason', async () => {
    const response = await get('slow.test', '/', { 'x-request-id': 'timeout-1' });
    assert.equal(response.statusCode, 504);
    await response.body.text();
    const record = await recordFor('timeout-1');
    assert.equal(record.status, 504);
    assert.equal(record.reason, 'upstream headers timeout');
  });

  test('upstream body timeout mid-response: connection cut, 504 logged', async () => {
    const response = await get('slow.test', '/partial', { 'x-request-id': 'body-timeout-1' });
    assert.equal(response.statusCode, 200);
    await assert.rejects(response.body.text());
    const record = await recordFor('body-timeout-1');
    assert.equal(record.status, 504);
    assert.equal(record.reason, 'upstream body timeout');
  });

  test('client abort: 499 client closed request', async () => {
    const port = new URL(proxy.url).port;
    await within(
      'the aborted request to end',
      new Promise<void>((resolve) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/wait', headers: { host: 'slow.test', 'x-request-id': 'abort-1' } });
        req.on('error', () => resolve());
        req.end();
        setTimeout(() => req.destroy(), 100);
      }),
    );
    const record = await recordFor('abort-1');
    assert.equal(record.status, 499);
    assert.equal(record.reason, 'client closed request');
  });

  test('a 204 that claims a body length is passed on as a complete 204', async () => {
    const first = await get('app.test', '/no-content', { 'x-request-id': 'no-content-1' });
    assert.equal(first.statusCode, 204);
    assert.equal(first.headers['content-length'], undefined);
    assert.equal(await first.body.text(), '');
    const second = await get('app.test', '/', { 'x-request-id': 'no-content-2' });
    assert.equal(second.statusCode, 200, 'the client connection is still usable');
    await second.body.text();
    const record = await recordFor('no-content-1');
    assert.equal(record.status, 204);
    assert.equal(record.reason, undefined);
  });

  test('a long User-Agent is truncated to 512 characters', async () => {
    const response = await get('app.test', '/ua', { 'user-agent': 'u'.repeat(600), 'x-request-id': 'ua-1' });
    await response.body.text();
    assert.equal((await recordFor('ua-1')).user_agent, 'u'.repeat(512));
  });

  test('trusted peer: client IP is the right-most untrusted X-Forwarded-For address', async () => {
    const response = await get('app.test', '/xff', { 'x-forwarded-for': '198.51.100.7, 203.0.113.9, 10.1.2.3', 'x-request-id': 'xff-1', 'x-forwarded-proto': 'https' });
    const echoed = (await response.body.json()) as { headers: Record<string, string> };
    assert.equal(echoed.headers['x-forwarded-for'], '198.51.100.7, 203.0.113.9, 10.1.2.3, 127.0.0.1');
    assert.equal(echoed.headers['x-forwarded-proto'], 'https');
    const record = await recordFor('xff-1');
    assert.equal(record.source_ip, '203.0.113.9');
    assert.equal(record.protocol, 'https');
  });

  test('trusted peer: IPv4-mapped and IPv6 forwarded addresses are normalised', async () => {
    const mapped = await get('app.test', '/v6', { 'x-forwarded-for': '::FFFF:203.0.113.10', 'x-request-id': 'mapped-1' });
    await mapped.body.text();
    assert.equal((await recordFor('mapped-1')).source_ip, '203.0.113.10');
    const v6 = await get('app.test', '/v6', { 'x-forwarded-for': '[2001:DB8:0:0::1]:4711', 'x-request-id': 'v6-1' });
    await v6.body.text();
    assert.equal((await recordFor('v6-1')).source_ip, '2001:db8::1');
  });
});

describe('untrusted peer', () => {
  test('X-Forwarded-For and X-Request-Id from an untrusted peer are ignored and replaced', async () => {
    const upstream = await startUpstream();
    const proxy = await startTestProxy({ services: [serviceConfig('app', upstream.url)] });
    try {
      const response = await request(`${proxy.url}/`, { headers: { host: 'app.test', 'x-forwarded-for': '203.0.113.9', 'x-request-id': 'spoofed', 'x-forwarded-proto': 'https' } });
      const echoed = (await response.body.json()) as { headers: Record<string, string> };
      assert.equal(echoed.headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(echoed.headers['x-forwarded-proto'], 'http');
      assert.notEqual(echoed.headers['x-request-id'], 'spoofed');
      const [record] = await waitForRecords(proxy.logDir, 1);
      assert.equal(record!.source_ip, '127.0.0.1');
      assert.equal(record!.protocol, 'http');
      assert.equal(record!.id, echoed.headers['x-request-id']);
    } finally {
      await proxy.stop();
      await upstream.close();
      await removeDir(proxy.logDir);
    }
  });

  test('IPv6 peer is logged in canonical form', async () => {
    const upstream = await startUpstream();
    const proxy = await startTestProxy({ listen: { host: '::1', port: 0 }, services: [serviceConfig('app', upstream.url)] });
    try {
      const response = await request(`${proxy.url}/`, { headers: { host: 'app.test' } });
      await response.body.text();
      const [record] = await waitForRecords(proxy.logDir, 1);
      assert.equal(record!.source_ip, '::1');
    } finally {
      await proxy.stop();
      await upstream.close();
      await removeDir(proxy.logDir);
    }
  });
});

describe('TLS listener', () => {
  test('serves HTTPS itself; lines carry protocol https', async () => {
    const upstream = await startUpstream();
    const fixtures = new URL('./fixtures/', import.meta.url).pathname;
    const proxy = await startTestProxy({ tls: { cert_file: `${fixtures}tls-cert.pem`, key_file: `${fixtures}tls-key.pem` }, services: [serviceConfig('app', upstream.url)] });
    const agent = new Agent({ connect: { rejectUnauthorized: false } });
    try {
      const response = await request(`https://127.0.0.1:${proxy.proxy.port}/secure`, { dispatcher: agent, headers: { host: 'app.test' } });
      const echoed = (await response.body.json()) as { headers: Record<string, string> };
      assert.equal(echoed.headers['x-forwarded-proto'], 'https');
      const [record] = await waitForRecords(proxy.logDir, 1);
      assert.equal(record!.protocol, 'https');
      assert.equal(record!.path, '/secure');
    } finally {
      await agent.close();
      await proxy.stop();
      await upstream.close();
      await removeDir(proxy.logDir);
    }
  });
});

describe('limits', () => {
  test('oversized headers get 431; a client trickling its headers is cut off', async () => {
    const upstream = await startUpstream();
    const proxy = await startTestProxy({
      limits: { max_header_bytes: 2048, headers_timeout_ms: 500, request_timeout_ms: 1000, idle_timeout_ms: 2000 },
      services: [serviceConfig('app', upstream.url)],
    });
    try {
      const big = await request(`${proxy.url}/`, { headers: { host: 'app.test', 'x-big': 'a'.repeat(4096) } });
      assert.equal(big.statusCode, 431);
      await big.body.text();

      const socket = connect(proxy.proxy.port, '127.0.0.1');
      const started = Date.now();
      socket.write('GET / HTTP/1.1\r\nHost: app.test\r\n');
      const trickle = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 200);
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      await within('the trickling client to be cut off', new Promise<void>((resolve) => socket.once('close', () => resolve()))).finally(() => clearInterval(trickle));
      assert.ok(Date.now() - started < 5000, 'cut off within a few seconds');
      assert.match(answer, /^HTTP\/1\.1 408/);
    } finally {
      await proxy.stop();
      await upstream.close();
      await removeDir(proxy.logDir);
    }
  });
});
