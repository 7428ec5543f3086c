// WebSocket upgrades through the proxy to a real WebSocket upstream: a standard client echoing
// through ws and wss, the 101 head relayed, refusals (no session, upstream non-101, upstream down
// or silent) answered and logged, and SIGTERM bounded for an upgrade still waiting on its upstream
// and for an open tunnel; each checked in the access-log line read back from disk.

import assert from 'node:assert/strict';
import { connect as connectTcp, type LookupFunction, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, WebSocket } from 'undici';
import { hashSecret } from '../../proxy/secret-hash.ts';
import { cheapSecretHash, readRecords, removeDir, serviceConfig, startTestProxy, tempDir, until, waitForRecord, waitForRecords, type TestProxy } from './helpers.ts';
import { spawnProxy } from './process.ts';
import { acceptKey, startWebSocketUpstream, type WebSocketUpstream } from './websocket-upstream.ts';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
const CLIENT_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** Every name resolves to the proxy on loopback, so clients can use the service's own host name. */
const toLoopback = ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) =>
  options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4)) as unknown as LookupFunction;

interface OpenWebSocket {
  socket: WebSocket;
  received: Array<string | Buffer>;
  closed: Promise<number>;
}

/** Opens a WebSocket through the proxy; rejects if the handshake fails. */
async function openWebSocket(url: string, dispatcher: Agent, requestId: string): Promise<OpenWebSocket> {
  const socket = new WebSocket(url, { dispatcher, headers: { 'x-request-id': requestId } });
  socket.binaryType = 'arraybuffer';
  const received: Array<string | Buffer> = [];
  socket.onmessage = (event) => received.push(typeof event.data === 'string' ? event.data : Buffer.from(event.data as ArrayBuffer));
  const closed = new Promise<number>((resolve) => (socket.onclose = (event) => resolve(event.code)));
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error(`WebSocket handshake with ${url} failed`));
  });
  return { socket, received, closed };
}

/** Sends each message and waits for its echo, then closes with 1000 'bye'; resolves with the close code and how long the socket was open. */
async function echoThrough(url: string, dispatcher: Agent, requestId: string, messages: Array<string | Buffer>): Promise<{ openMs: number; closeCode: number }> {
  const { socket, received, closed } = await openWebSocket(url, dispatcher, requestId);
  const opened = Date.now();
  for (const [index, message] of messages.entries()) {
    socket.send(message);
    await until(() => received.length === index + 1, `echo of message ${index}`);
  }
  assert.deepEqual(received, messages);
  socket.close(1000, 'bye');
  const closeCode = await closed;
  return { openMs: Date.now() - opened, closeCode };
}

interface RawUpgrade {
  socket: Socket;
  received(): string;
  closed: Promise<void>;
}

/** An upgrade request written by hand, to see the exact response head and body. */
function rawUpgrade(port: number, host: string, path: string, requestId: string, headers = ''): RawUpgrade {
  const socket = connectTcp(port, '127.0.0.1');
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Request-Id: ${requestId}\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${CLIENT_KEY}\r\n${headers}\r\n`,
  );
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => socket.destroy());
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received: () => received, closed };
}

describe('WebSocket proxying', () => {
  let upstream: WebSocketUpstream;
  let proxy: TestProxy;
  const dispatcher = new Agent({ connect: { lookup: toLoopback } });

  before(async () => {
    upstream = await startWebSocketUpstream();
    proxy = await startTestProxy({
      trusted_proxies: ['127.0.0.1'],
      services: [
        serviceConfig('app', upstream.url),
        serviceConfig('locked', upstream.url, { method: 'password', hash: await hashSecret('not-used-here') }),
        serviceConfig('robots', upstream.url, { method: 'basic', users: [{ username: 'robot', hash: cheapSecretHash('robot-secret') }] }),
        serviceConfig('down', 'http://127.0.0.1:1'),
        serviceConfig('silent', upstream.url, { method: 'none' }, { upstream_timeouts: { connect_ms: 1000, headers_ms: 300, body_ms: 300 } }),
      ],
    });
  });

  after(async () => {
    await dispatcher.close();
    await proxy.stop();
    await upstream.close();
    await removeDir(proxy.logDir);
  });

  const port = () => proxy.proxy.port;

  test('a WebSocket client echoes text and binary through the tunnel; one line at close: 101, ws, bytes each way, duration', async () => {
    const binary = Buffer.alloc(1000, 9);
    const echoed = await echoThrough(`ws://app.test:${port()}/chat?ticket=abc`, dispatcher, 'ws-echo', ['hello', binary]);
    assert.equal(echoed.closeCode, 1000);
    const seen = upstream.seen.find((req) => req.headers['x-request-id'] === 'ws-echo');
    assert.equal(seen?.url, '/chat?ticket=abc', 'the query string reaches the upstream');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    const record = await waitForRecord(proxy.logDir, 'ws-echo');
    assert.equal(record.status, 101);
    assert.equal(record.protocol, 'ws');
    assert.equal(record.service, 'app');
    assert.equal(record.path, '/chat');
    assert.equal(record.reason, undefined);
    assert.ok(record.duration_ms >= echoed.openMs, `duration ${record.duration_ms} ms covers the ${echoed.openMs} ms the socket was open`);
    // Client frames carry a 4-byte mask; 'hello' and the close frame (code + 'bye') have 2-byte
    // headers, the 1000-byte frame a 4-byte one.
    assert.equal(record.bytes_in, 5 + 6 + (1000 + 8) + (5 + 6));
    assert.equal(record.bytes_out, 5 + 2 + (1000 + 4) + (5 + 2));
    assert.equal((await readRecords(proxy.logDir)).filter((line) => line.id === 'ws-echo').length, 1);
  });

  test('the 101 head carries the upstream headers minus hop-by-hop ones, with Connection and Upgrade set', async () => {
    const upgrade = rawUpgrade(port(), 'app.test', '/head', 'ws-head');
    await until(() => upgrade.received().includes('\r\n\r\n'), 'the 101 head');
    const head = upgrade.received().toLowerCase();
    assert.match(head, /^http\/1\.1 101 switching protocols\r\n/);
    assert.match(head, /\r\nconnection: upgrade\r\n/);
    assert.match(head, /\r\nupgrade: websocket\r\n/);
    assert.ok(head.includes(`\r\nsec-websocket-accept: ${acceptKey(CLIENT_KEY).toLowerCase()}\r\n`), 'the upstream accept key');
    assert.match(head, /\r\nx-upstream: kept\r\n/);
    assert.doesNotMatch(head, /x-upstream-hop/);
    upgrade.socket.end();
    await upgrade.closed;
    const record = await waitForRecord(proxy.logDir, 'ws-head');
    assert.equal(record.status, 101);
    assert.equal(record.path, '/head');
  });

  test('an upgrade to a login-protected service without a session: 401, logged', async () => {
    const upgrade = rawUpgrade(port(), 'locked.test', '/socket', 'ws-denied');
    await upgrade.closed;
    assert.match(upgrade.received(), /^HTTP\/1\.1 401 /);
    assert.equal(upstream.seen.some((req) => req.headers['x-request-id'] === 'ws-denied'), false, 'never forwarded');
    const record = await waitForRecord(proxy.logDir, 'ws-denied');
    assert.equal(record.status, 401);
    assert.equal(record.protocol, 'ws');
    assert.equal(record.auth_method, 'password');
    assert.equal(record.reason, 'missing session');
  });

  test('an upgrade to a Basic service: right credentials open the tunnel (the upstream sees none), wrong ones are a 401', async () => {
    const basic = (password: string) => `Authorization: Basic ${Buffer.from(`robot:${password}`).toString('base64')}\r\n`;
    const open = rawUpgrade(port(), 'robots.test', '/socket', 'ws-basic', basic('robot-secret'));
    await until(() => open.received().includes('\r\n\r\n'), 'the 101 head');
    assert.match(open.received(), /^HTTP\/1\.1 101 /);
    assert.equal(upstream.seen.find((req) => req.headers['x-request-id'] === 'ws-basic')?.headers.authorization, undefined);
    open.socket.end();
    await open.closed;
    const record = await waitForRecord(proxy.logDir, 'ws-basic');
    assert.equal(record.status, 101);
    assert.equal(record.auth_method, 'basic');
    assert.equal(record.user_id, 'robot');
    const wrong = rawUpgrade(port(), 'robots.test', '/socket', 'ws-basic-wrong', basic('nope'));
    await wrong.closed;
    assert.match(wrong.received(), /^HTTP\/1\.1 401 /);
    const denied = await waitForRecord(proxy.logDir, 'ws-basic-wrong');
    assert.equal(denied.auth_method, 'basic');
    assert.equal(denied.reason, 'invalid password');
  });

  test('an upstream that answers without upgrading: its answer relayed, logged with its status', async () => {
    const upgrade = rawUpgrade(port(), 'app.test', '/refuse', 'ws-refused');
    await upgrade.closed;
    const [head, body] = upgrade.received().split('\r\n\r\n');
    assert.match(head!, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(head!, /\r\nx-upstream: refused/i);
    assert.match(head!, /\r\nconnection: close/i);
    assert.equal(body, 'no sockets here');
    const record = await waitForRecord(proxy.logDir, 'ws-refused');
    assert.equal(record.status, 403);
    assert.equal(record.reason, 'upstream refused upgrade');
    assert.equal(record.bytes_out, 'no sockets here'.length);
  });

  test('upstream down: 502 with the forwarding reason, logged', async () => {
    const upgrade = rawUpgrade(port(), 'down.test', '/socket', 'ws-down');
    await upgrade.closed;
    assert.match(upgrade.received(), /^HTTP\/1\.1 502 Bad Gateway\r\n[^]*\r\n\r\nupstream unavailable\n$/);
    const record = await waitForRecord(proxy.logDir, 'ws-down');
    assert.equal(record.status, 502);
    assert.equal(record.reason, 'upstream connection refused');
    assert.equal(record.protocol, 'ws');
  });

  test('upstream silent past its headers timeout: 504, logged', async () => {
    const upgrade = rawUpgrade(port(), 'silent.test', '/hold', 'ws-silent');
    await upgrade.closed;
    assert.match(upgrade.received(), /^HTTP\/1\.1 504 Gateway Timeout\r\n/);
    const record = await waitForRecord(proxy.logDir, 'ws-silent');
    assert.equal(record.status, 504);
    assert.equal(record.reason, 'upstream headers timeout');
  });
});

describe('WebSocket over the TLS listener', () => {
  test('wss echoes through the proxy; the line carries protocol wss, the upstream sees https', async () => {
    const upstream = await startWebSocketUpstream();
    const proxy = await startTestProxy({ tls: { cert_file: `${FIXTURES}tls-cert.pem`, key_file: `${FIXTURES}tls-key.pem` }, services: [serviceConfig('app', upstream.url)] });
    const dispatcher = new Agent({ connect: { lookup: toLoopback, rejectUnauthorized: false } });
    try {
      const echoed = await echoThrough(`wss://app.test:${proxy.proxy.port}/secure`, dispatcher, 'ignored-untrusted', ['over tls']);
      assert.equal(echoed.closeCode, 1000);
      assert.equal(upstream.seen[0]?.headers['x-forwarded-proto'], 'https');
      const [record] = await waitForRecords(proxy.logDir, 1);
      assert.equal(record?.protocol, 'wss');
      assert.equal(record?.status, 101);
      assert.equal(record?.path, '/secure');
    } finally {
      await dispatcher.close();
      await proxy.stop();
      await upstream.close();
      await removeDir(proxy.logDir);
    }
  });
});

describe('SIGTERM with WebSockets', () => {
  test('an upgrade waiting on its upstream and an open tunnel are cut at the shutdown timeout, both logged', async () => {
    const shutdownTimeoutMs = 600;
    const upstream = await startWebSocketUpstream();
    const dir = await tempDir('ws-sigterm');
    const proxy = await spawnProxy(dir, {
      proxy_id: 'ws-sigterm',
      listen: { host: '127.0.0.1', port: 0 },
      access_log: { dir: `${dir}/logs` },
      trusted_proxies: ['127.0.0.1'],
      limits: { shutdown_timeout_ms: shutdownTimeoutMs },
      // The upstream's headers timeout is far beyond the shutdown timeout: only the shutdown can end the wait.
      services: [serviceConfig('app', upstream.url, { method: 'none' }, { upstream_timeouts: { connect_ms: 1000, headers_ms: 60_000, body_ms: 60_000 } })],
    });
    const dispatcher = new Agent({ connect: { lookup: toLoopback } });
    try {
      const tunnel = await openWebSocket(`ws://app.test:${proxy.port}/open`, dispatcher, 'ws-open');
      tunnel.socket.send('still here');
      await until(() => tunnel.received.length === 1, 'the tunnel echo');
      const waiting = rawUpgrade(proxy.port, 'app.test', '/hold', 'ws-waiting');
      await until(() => upstream.seen.some((req) => req.url === '/hold'), 'the held upgrade to reach the upstream');

      const signalled = Date.now();
      const exit = await Promise.race([proxy.terminate(), sleep(shutdownTimeoutMs + 5_000, undefined, { ref: false }).then(() => 'still running')]);
      const exitMs = Date.now() - signalled;
      assert.equal(exit, 0);
      assert.ok(exitMs < shutdownTimeoutMs + 1_500, `exited ${exitMs} ms after SIGTERM (shutdown timeout ${shutdownTimeoutMs} ms)`);
      await waiting.closed;
      assert.equal(await tunnel.closed, 1006, 'the tunnel was cut, not closed by a close frame');
    } finally {
      proxy.child.kill();
      await dispatcher.close();
      await upstream.close();
    }
    const records = await readRecords(`${dir}/logs`);
    const waitingRecord = records.find((record) => record.id === 'ws-waiting');
    assert.equal(waitingRecord?.status, 503);
    assert.equal(waitingRecord.reason, 'proxy shutting down');
    assert.equal(waitingRecord.protocol, 'ws');
    const tunnelRecord = records.find((record) => record.id === 'ws-open');
    assert.equal(tunnelRecord?.status, 101);
    assert.equal(tunnelRecord.reason, 'proxy shutting down');
    assert.ok(tunnelRecord.duration_ms >= shutdownTimeoutMs, `the tunnel lived through the ${shutdownTimeoutMs} ms grace period (${tunnelRecord.duration_ms} ms)`);
    assert.equal(tunnelRecord.bytes_in, 'still here'.length + 6);
    await removeDir(dir);
  });
});
