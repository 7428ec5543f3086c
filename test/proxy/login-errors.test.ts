// What the login paths answer when something goes wrong: a body over the limit is the client's
// fault (413); a failure the proxy did not expect (here scrypt refusing a hash's parameters) is a
// 500 naming the request id, logged under that id, never a 4xx; a client that leaves mid-form is
// recorded as 499 and is no error at all.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { LOGIN_PATH } from '../../proxy/auth/endpoints.ts';
import { hashSecret } from '../../proxy/secret-hash.ts';
import { removeDir, serviceConfig, startUpstream, tempDir, waitForRecord, type Upstream } from './helpers.ts';
import { spawnProxy, type ProxyProcess } from './process.ts';

// Well-formed, and within the ranges the configuration accepts, but scrypt needs N < 2^(16 r):
// ln=17 with r=1 makes every verification fail inside node:crypto.
const UNUSABLE_HASH = `$scrypt$ln=17,r=1,p=1$${Buffer.alloc(16, 1).toString('base64')}$${Buffer.alloc(32, 2).toString('base64')}`;

describe('login failures', () => {
  let upstream: Upstream;
  let dir: string;
  let proxy: ProxyProcess;

  before(async () => {
    upstream = await startUpstream();
    dir = await tempDir('login-errors');
    proxy = await spawnProxy(dir, {
      proxy_id: 'login-errors',
      listen: { host: '127.0.0.1', port: 0 },
      trusted_proxies: ['127.0.0.1'],
      access_log: { dir: `${dir}/logs` },
      services: [
        serviceConfig('wiki', upstream.url, { method: 'password', hash: await hashSecret('right') }),
        serviceConfig('broken', upstream.url, { method: 'password', hash: UNUSABLE_HASH }),
      ],
    });
  });

  after(async () => {
    proxy.child.kill();
    await upstream.close();
    await removeDir(dir);
  });

  const post = (host: string, id: string, body: string) =>
    request(`${proxy.url}${LOGIN_PATH}`, {
      method: 'POST',
      headers: { host, 'x-request-id': id, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });

  const recordOf = (id: string) => waitForRecord(`${dir}/logs`, id);

  test('a form over the limit is 413', async () => {
    const response = await post('wiki.test', 'too-large-1', `password=${'x'.repeat(9_000)}`);
    assert.equal(response.statusCode, 413);
    await response.body.dump();
    const record = await recordOf('too-large-1');
    assert.equal(record.status, 413);
    assert.equal(record.reason, 'login form too large');
  });

  test('an unexpected failure is a 500 naming the request id, logged under it', async () => {
    const response = await post('broken.test', 'unexpected-1', 'password=anything');
    assert.equal(response.statusCode, 500);
    assert.equal(response.headers['x-request-id'], 'unexpected-1');
    assert.match(await response.body.text(), /request id unexpected-1/);
    const record = await recordOf('unexpected-1');
    assert.equal(record.status, 500);
    assert.equal(record.reason, 'unexpected error');
    const logged = proxy.stderr().split('\n').filter((line) => line.includes('"request_id":"unexpected-1"'));
    assert.equal(logged.length, 1, proxy.stderr());
    const entry = JSON.parse(logged[0]!);
    assert.equal(entry.msg, 'unexpected error');
    assert.equal(entry.err.code, 'ERR_CRYPTO_INVALID_SCRYPT_PARAMS');
    assert.ok(!logged[0]!.includes('anything'), 'the password never reaches the log');
  });

  test('a client leaving mid-form is recorded as 499, not answered and not logged as an error', async () => {
    const socket = connect(proxy.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const head = `POST ${LOGIN_PATH} HTTP/1.1\r\nhost: wiki.test\r\nx-request-id: left-1\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 5000\r\n\r\n`;
    await new Promise<void>((resolve) => socket.write(`${head}password=abc`, () => resolve()));
    socket.destroy();
    const left = await recordOf('left-1');
    assert.equal(left.status, 499);
    assert.equal(left.reason, 'client closed request');
    assert.ok(!proxy.stderr().includes('"request_id":"left-1"'), proxy.stderr());
  });
});
