// Requests refused before routing, sent over raw sockets because a client library would never send
// them: what Node's parser rejects, Host problems, absolute-form targets, CONNECT, Expect, plain
// HTTP to the TLS listener. Each must be answered and leave exactly one access-log line; a
// connection that sent nothing must leave none.

import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import type { AccessRecord } from '../../common/access-record.ts';
import { echo, readRecords, removeDir, serviceConfig, startTestProxy, startUpstream, type SeenRequest, type TestProxy, type Upstream } from './helpers.ts';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
const HEADERS_TIMEOUT_MS = 400;

interface RawAnswer {
  text: string;
  /** Milliseconds from connecting to the connection's close. */
  elapsedMs: number;
}

/** Sends `bytes` (if any) and collects everything until the proxy closes the connection. */
function sendRaw(open: () => Socket, bytes: string | undefined, deadlineMs = 5_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = open();
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connection still open after ${deadlineMs} ms; got ${JSON.stringify(text)}`));
    }, deadlineMs);
    // Both kinds of socket hold writes until connected (TLS: until the handshake is done).
    if (bytes !== undefined) socket.write(bytes);
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ text, elapsedMs: Date.now() - started });
    });
  });
}

async function lineWhere(dir: string, what: string, predicate: (record: AccessRecord) => boolean): Promise<AccessRecord> {
  let found: AccessRecord | undefined;
  const deadline = Date.now() + 5_000;
  while (found === undefined) {
    found = (await readRecords(dir)).find(predicate);
    if (found === undefined && Date.now() > deadline) throw new Error(`no log line for ${what}`);
    if (found === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return found;
}

describe('requests refused before routing', () => {
  let upstream: Upstream;
  let proxy: TestProxy;
  let port: number;
  const seen: SeenRequest[] = [];
  const plain = () => connect(port, '127.0.0.1');

  before(async () => {
    upstream = await startUpstream((request, res) => {
      seen.push(request);
      echo(request, res);
    });
    proxy = await startTestProxy({
      limits: { max_header_bytes: 4096, headers_timeout_ms: HEADERS_TIMEOUT_MS, request_timeout_ms: 3_000, keep_alive_timeout_ms: 3_000 },
      services: [serviceConfig('app', upstream.url), serviceConfig('public', upstream.url)],
    });
    port = proxy.proxy.port;
  });

  after(async () => {
    await proxy.stop();
    await upstream.close();
    await removeDir(proxy.logDir);
  });

  const parserCases = [
    {
      name: 'Content-Length with Transfer-Encoding',
      request: 'POST /smuggle?token=q1 HTTP/1.1\r\nHost: app.test\r\nUser-Agent: raw-test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      status: 400,
      reason: 'conflicting Content-Length and Transfer-Encoding',
      expect: { method: 'POST', host: 'app.test', path: '/smuggle', user_agent: 'raw-test' },
    },
    {
      name: 'two Content-Length headers',
      request: 'POST /twice?token=q2 HTTP/1.1\r\nHost: app.test\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
      status: 400,
      reason: 'duplicate Content-Length',
      expect: { method: 'POST', host: 'app.test', path: '/twice' },
    },
    {
      name: 'malformed request line',
      request: 'GET /badversion?token=q3 HTTP/9.Z\r\nHost: app.test\r\n\r\n',
      status: 400,
      reason: 'malformed request',
      expect: { method: 'GET', host: 'app.test', path: '/badversion' },
    },
    {
      name: 'malformed header',
      request: 'GET /badheader?token=q4 HTTP/1.1\r\nHost: app.test\r\nCookie: proxy_session=s3cret-cookie\r\nBad Header: x\r\n\r\n',
      status: 400,
      reason: 'malformed request',
      expect: { method: 'GET', host: 'app.test', path: '/badheader' },
    },
    {
      name: 'headers too large',
      request: `GET /large?token=q5 HTTP/1.1\r\nHost: app.test\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`,
      status: 431,
      reason: 'request headers too large',
      expect: { method: 'GET', host: 'app.test', path: '/large' },
    },
    {
      name: 'URI too long',
      request: `GET /long-${'b'.repeat(10_000)} HTTP/1.1\r\nHost: app.test\r\n\r\n`,
      status: 431,
      reason: 'request URI too long',
      expect: { method: 'GET', host: 'app.test', path: `/long-${'b'.repeat(2042)}` },
    },
  ];

  for (const each of parserCases) {
    test(`${each.name}: answered ${each.status} and logged`, async () => {
      const answer = await sendRaw(plain, each.request);
      assert.match(answer.text, new RegExp(`^HTTP/1\\.1 ${each.status} `));
      const path = 'path' in each.expect ? each.expect.path : undefined;
      const record = await lineWhere(proxy.logDir, each.name, (line) => line.reason === each.reason && (path === undefined || line.path === path));
      assert.equal(record.status, each.status);
      assert.equal(record.source_ip, '127.0.0.1');
      assert.equal(record.service, undefined);
      assert.equal(record.protocol, 'http');
      for (const [field, value] of Object.entries(each.expect)) assert.equal(record[field as keyof AccessRecord], value, field);
      // Never the query string, never a header other than Host and User-Agent.
      assert.doesNotMatch(JSON.stringify(record), /token|s3cret/);
    });
  }

  test('a stalled request line gets 408 and a line; a silent connection and an idle keep-alive one get none', async () => {
    const before = (await readRecords(proxy.logDir)).length;
    const silent = await sendRaw(plain, undefined);
    assert.ok(silent.elapsedMs >= HEADERS_TIMEOUT_MS - 50, 'closed by the header timeout');
    const stalled = await sendRaw(plain, 'GET /stalled?tok');
    assert.match(stalled.text, /^HTTP\/1\.1 408 /);
    const idle = await sendRaw(plain, 'GET /once HTTP/1.1\r\nHost: app.test\r\n\r\n');
    assert.match(idle.text, /^HTTP\/1\.1 200 /);
    assert.ok(idle.elapsedMs >= 2 * HEADERS_TIMEOUT_MS, 'stayed open past the header timeout');
    await lineWhere(proxy.logDir, 'the request before idling', (line) => line.path === '/once');
    const records = await readRecords(proxy.logDir);
    assert.deepEqual(
      records.slice(before).map((line) => [line.status, line.reason ?? '', line.source_ip]),
      [
        [408, 'request header timeout', '127.0.0.1'],
        [200, '', '127.0.0.1'],
      ],
    );
  });

  test('a client resetting mid-request is dropped quietly; the next refused request is still logged', async () => {
    const before = (await readRecords(proxy.logDir)).length;
    const socket = plain();
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET /reset HTTP/1.1\r\nHost: app');
    socket.resetAndDestroy();
    const next = await sendRaw(plain, 'GET /after-reset HTTP/1.1\r\nHost: app.test\r\nHost: app.test\r\n\r\n');
    assert.match(next.text, /^HTTP\/1\.1 400 /);
    await lineWhere(proxy.logDir, 'the request after the reset', (line) => line.path === '/after-reset');
    const records = await readRecords(proxy.logDir);
    assert.deepEqual(
      records.slice(before).map((line) => line.path),
      ['/after-reset'],
    );
  });

  test('a malformed body is answered 400 and logged once, on its own request', async () => {
    const answer = await sendRaw(plain, 'POST /chunks HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n');
    assert.match(answer.text, /^HTTP\/1\.1 400 /);
    const record = await lineWhere(proxy.logDir, 'malformed body', (line) => line.path === '/chunks');
    assert.equal(record.status, 400);
    assert.equal(record.reason, 'malformed request body');
    assert.equal(record.service, 'app');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await readRecords(proxy.logDir)).filter((line) => line.path === '/chunks').length, 1);
  });

  test('two Host headers: 400, logged', async () => {
    const answer = await sendRaw(plain, 'GET /two-hosts HTTP/1.1\r\nHost: public.test\r\nHost: app.test\r\n\r\n');
    assert.match(answer.text, /^HTTP\/1\.1 400 /);
    const record = await lineWhere(proxy.logDir, 'duplicate Host', (line) => line.path === '/two-hosts');
    assert.equal(record.status, 400);
    assert.equal(record.reason, 'duplicate Host header');
    assert.equal(record.service, undefined);
  });

  test('no Host header in HTTP/1.1: 400, logged', async () => {
    const answer = await sendRaw(plain, 'GET /no-host HTTP/1.1\r\n\r\n');
    assert.match(answer.text, /^HTTP\/1\.1 400 /);
    const record = await lineWhere(proxy.logDir, 'missing Host', (line) => line.path === '/no-host');
    assert.equal(record.reason, 'missing Host header');
  });

  test('an absolute-form target is routed by its authority; the upstream gets origin-form and the routed Host', async () => {
    const answer = await sendRaw(plain, 'GET http://App.test:8080/secret?q=1 HTTP/1.1\r\nHost: public.test\r\nConnection: close\r\n\r\n');
    assert.match(answer.text, /^HTTP\/1\.1 200 /);
    const echoed = seen.find((request) => request.url.startsWith('/secret'));
    assert.equal(echoed?.url, '/secret?q=1');
    assert.equal(echoed.headers['x-forwarded-host'], 'app.test:8080');
    const record = await lineWhere(proxy.logDir, 'absolute-form', (line) => line.path === '/secret');
    assert.equal(record.host, 'app.test');
    assert.equal(record.service, 'app');
  });

  test('an unsupported Expect gets 417, logged', async () => {
    const answer = await sendRaw(plain, 'GET /expect HTTP/1.1\r\nHost: app.test\r\nExpect: teapot\r\nConnection: close\r\n\r\n');
    assert.match(answer.text, /^HTTP\/1\.1 417 /);
    const record = await lineWhere(proxy.logDir, 'Expect', (line) => line.path === '/expect');
    assert.equal(record.reason, 'unsupported Expect header');
  });

  test('CONNECT gets 405, logged', async () => {
    const answer = await sendRaw(plain, 'CONNECT app.test:443 HTTP/1.1\r\nHost: app.test:443\r\n\r\n');
    assert.match(answer.text, /^HTTP\/1\.1 405 /);
    const record = await lineWhere(proxy.logDir, 'CONNECT', (line) => line.method === 'CONNECT');
    assert.equal(record.reason, 'CONNECT not supported');
    assert.equal(record.host, 'app.test');
  });
});

describe('requests refused at the TLS listener', () => {
  let upstream: Upstream;
  let proxy: TestProxy;

  before(async () => {
    upstream = await startUpstream();
    proxy = await startTestProxy({
      tls: { cert_file: `${FIXTURES}tls-cert.pem`, key_file: `${FIXTURES}tls-key.pem` },
      limits: { headers_timeout_ms: HEADERS_TIMEOUT_MS, request_timeout_ms: 3_000 },
      services: [serviceConfig('app', upstream.url)],
    });
  });

  after(async () => {
    await proxy.stop();
    await upstream.close();
    await removeDir(proxy.logDir);
  });

  test('plain HTTP sent to the TLS port: 400 in plain text, logged', async () => {
    const answer = await sendRaw(() => connect(proxy.proxy.port, '127.0.0.1'), 'GET /plain?x=1 HTTP/1.1\r\nHost: app.test\r\n\r\n');
    assert.match(answer.text, /^HTTP\/1\.1 400 /);
    const record = await lineWhere(proxy.logDir, 'plain HTTP', (line) => line.reason === 'plain HTTP request sent to the TLS port');
    assert.equal(record.status, 400);
    assert.equal(record.source_ip, '127.0.0.1');
  });

  test('a parser error inside TLS is logged with protocol https; a silent TLS connection is not', async () => {
    const open = () => tlsConnect({ port: proxy.proxy.port, host: '127.0.0.1', rejectUnauthorized: false });
    const bad = await sendRaw(open, 'POST /tls-smuggle HTTP/1.1\r\nHost: app.test\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab');
    assert.match(bad.text, /^HTTP\/1\.1 400 /);
    const record = await lineWhere(proxy.logDir, 'TLS parser error', (line) => line.path === '/tls-smuggle');
    assert.equal(record.protocol, 'https');
    assert.equal(record.reason, 'duplicate Content-Length');
    const before = (await readRecords(proxy.logDir)).length;
    const silent = await sendRaw(open, undefined);
    assert.ok(silent.elapsedMs >= HEADERS_TIMEOUT_MS - 50, 'closed by the header timeout');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await readRecords(proxy.logDir)).length, before);
  });
});
