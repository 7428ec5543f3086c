// HTTP Basic services: the 401 challenge, each way credentials fail, success with the username as
// user_id, the Authorization header kept from the upstream (unless the service forwards it) and
// from the log, and both failed-attempt limits.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { BASIC_REASONS } from '../../proxy/auth/basic.ts';
import { SERVICE_LOCKED_REASON, TOO_MANY_ATTEMPTS_REASON } from '../../proxy/auth/rate-limit.ts';
import { cheapSecretHash, logFiles, removeDir, serviceConfig, startTestProxy, startUpstream, waitForRecord, type TestProxy, type Upstream } from './helpers.ts';

const ALICE_PASSWORD = 'alice-basic-password-ü';
const BOB_PASSWORD = 'bob:has:colons';

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

describe('HTTP Basic services', () => {
  let upstream: Upstream;
  let proxy: TestProxy;

  before(async () => {
    upstream = await startUpstream();
    const users = [
      { username: 'alice', hash: cheapSecretHash(ALICE_PASSWORD) },
      { username: 'bob', hash: cheapSecretHash(BOB_PASSWORD) },
    ];
    proxy = await startTestProxy({
      trusted_proxies: ['127.0.0.1'],
      login_rate_limit: { max_failed_attempts: 3, window_seconds: 60, service_max_failed_attempts: 8, service_window_seconds: 60, service_lockout_seconds: 120 },
      services: [
        serviceConfig('api', upstream.url, { method: 'basic', users }),
        serviceConfig('passthrough', upstream.url, { method: 'basic', users, forward_authorization: true }),
        serviceConfig('vault', upstream.url, { method: 'basic', users }),
      ],
    });
  });

  after(async () => {
    await proxy.stop();
    await upstream.close();
    await removeDir(proxy.logDir);
  });

  const send = (host: string, clientIp: string, id: string, authorization?: string) =>
    request(`${proxy.url}/v1/items?token=query-secret`, {
      headers: { host, 'x-forwarded-for': clientIp, 'x-request-id': id, ...(authorization === undefined ? {} : { authorization }) },
    });
  const record = (id: string) => waitForRecord(proxy.logDir, id);

  test('no credentials: 401 with the challenge naming the service, recorded as basic / missing credentials', async () => {
    const response = await send('api.test', '192.0.2.1', 'basic-none');
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers['www-authenticate'], 'Basic realm="api"');
    assert.equal(response.headers.location, undefined, 'no redirect: the client is a script');
    await response.body.text();
    const line = await record('basic-none');
    assert.equal(line.auth_method, 'basic');
    assert.equal(line.reason, BASIC_REASONS.missing);
    assert.equal(line.user_id, undefined);
  });

  test('another scheme is no Basic credential: missing credentials', async () => {
    const response = await send('api.test', '192.0.2.2', 'basic-bearer', 'Bearer some-token');
    assert.equal(response.statusCode, 401);
    await response.body.text();
    assert.equal((await record('basic-bearer')).reason, BASIC_REASONS.missing);
  });

  for (const failure of [
    { name: 'malformed', authorization: 'Basic !!!not-base64', reason: BASIC_REASONS.malformed },
    { name: 'no-colon', authorization: `Basic ${Buffer.from('alice').toString('base64')}`, reason: BASIC_REASONS.malformed },
    { name: 'unknown', authorization: basic('mallory', ALICE_PASSWORD), reason: BASIC_REASONS.unknownUser },
    { name: 'wrong', authorization: basic('alice', 'not-her-password'), reason: BASIC_REASONS.invalid },
  ]) {
    test(`${failure.name} credentials: 401 with the challenge, reason "${failure.reason}"`, async () => {
      const id = `basic-${failure.name}`;
      const response = await send('api.test', `192.0.2.1${failure.name.length}`, id, failure.authorization);
      assert.equal(response.statusCode, 401);
      assert.equal(response.headers['www-authenticate'], 'Basic realm="api"');
      await response.body.text();
      const line = await record(id);
      assert.equal(line.auth_method, 'basic');
      assert.equal(line.reason, failure.reason);
      assert.equal(line.user_id, undefined);
    });
  }

  test('right credentials: forwarded without the Authorization header, user_id = the username (colons in the password are fine)', async () => {
    for (const [username, password] of [
      ['alice', ALICE_PASSWORD],
      ['bob', BOB_PASSWORD],
    ] as const) {
      const id = `basic-ok-${username}`;
      const response = await send('api.test', '192.0.2.20', id, basic(username, password));
      assert.equal(response.statusCode, 200);
      const echoed = (await response.body.json()) as { headers: Record<string, string> };
      assert.equal(echoed.headers.authorization, undefined);
      const line = await record(id);
      assert.equal(line.auth_method, 'basic');
      assert.equal(line.user_id, username);
      assert.equal(line.user_name, username, 'Basic records the username as the user name too');
      assert.equal(line.reason, undefined);
    }
    // Remembered credentials (no second hash check) are still only the right ones.
    const again = await send('api.test', '192.0.2.20', 'basic-ok-again', basic('alice', ALICE_PASSWORD));
    assert.equal(again.statusCode, 200);
    await again.body.text();
    const swapped = await send('api.test', '192.0.2.20', 'basic-swapped', basic('bob', ALICE_PASSWORD));
    assert.equal(swapped.statusCode, 401);
    await swapped.body.text();
  });

  test('forward_authorization: true passes the header on', async () => {
    const authorization = basic('alice', ALICE_PASSWORD);
    const response = await send('passthrough.test', '192.0.2.21', 'basic-forwarded', authorization);
    assert.equal(response.statusCode, 200);
    const echoed = (await response.body.json()) as { headers: Record<string, string> };
    assert.equal(echoed.headers.authorization, authorization);
  });

  test('beyond the per-source limit: 429 with Retry-After, even for the right credentials', async () => {
    const ip = '192.0.2.30';
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await send('api.test', ip, `basic-limit-${attempt}`, basic('alice', `guess-${attempt}`));
      assert.equal(response.statusCode, 401);
      await response.body.text();
    }
    const limited = await send('api.test', ip, 'basic-limited', basic('alice', ALICE_PASSWORD));
    assert.equal(limited.statusCode, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.equal(limited.headers['www-authenticate'], undefined);
    await limited.body.text();
    const line = await record('basic-limited');
    assert.equal(line.auth_method, 'basic');
    assert.equal(line.reason, TOO_MANY_ATTEMPTS_REASON);
    assert.equal(line.user_id, undefined);
    const elsewhere = await send('api.test', '192.0.2.31', 'basic-other-source', basic('alice', ALICE_PASSWORD));
    assert.equal(elsewhere.statusCode, 200, 'another source is not limited');
    await elsewhere.body.text();
  });

  test("many sources together spend the service's budget: locked for everyone", async () => {
    for (let source = 0; source < 8; source++) {
      const response = await send('vault.test', `203.0.113.${source + 1}`, `vault-guess-${source}`, basic('alice', `guess-${source}`));
      assert.equal(response.statusCode, 401);
      await response.body.text();
    }
    const locked = await send('vault.test', '203.0.113.99', 'vault-locked', basic('bob', BOB_PASSWORD));
    assert.equal(locked.statusCode, 429);
    assert.ok(Number(locked.headers['retry-after']) > 60);
    await locked.body.text();
    assert.equal((await record('vault-locked')).reason, SERVICE_LOCKED_REASON);
  });

  test('neither the credentials nor the query string reach the log', async () => {
    await record('basic-forwarded');
    const text = (await Promise.all((await logFiles(proxy.logDir)).map((file) => readFile(file, 'utf8')))).join('');
    for (const secret of [ALICE_PASSWORD, BOB_PASSWORD, basic('alice', ALICE_PASSWORD).slice(6), 'Basic ', 'query-secret', 'authorization']) {
      assert.equal(text.includes(secret), false, secret);
    }
  });
});
