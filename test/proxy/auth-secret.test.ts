// Password and PIN services: the login page, wrong and right secrets, the session cookie (kept
// from the upstream), the failed-attempt limit, logout, an expired session; each
// outcome checked in the log line of its own request.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { hashSecret } from '../../proxy/secret-hash.ts';
import { CookieSigner, SESSION_COOKIE, type Session } from '../../proxy/auth/session-cookie.ts';
import { removeDir, serviceConfig, startTestProxy, startUpstream, tempDir, waitForRecord, type TestProxy, type Upstream } from './helpers.ts';

const PASSWORD = 'correct horse battery staple';
const PIN = '482916';

describe('password and PIN services', () => {
  let upstream: Upstream;
  let proxy: TestProxy;

  before(async () => {
    upstream = await startUpstream();
    proxy = await startTestProxy({
      trusted_proxies: ['127.0.0.1'],
      login_rate_limit: { max_failed_attempts: 3, window_seconds: 60 },
      services: [
        serviceConfig('wiki', upstream.url, { method: 'password', hash: await hashSecret(PASSWORD), user_id: 'wiki-team' }),
        serviceConfig('door', upstream.url, { method: 'pin', hash: await hashSecret(PIN) }),
      ],
    });
  });

  after(async () => {
    await proxy.stop();
    await upstream.close();
    await removeDir(proxy.logDir);
  });

  /** Requests come "via" a trusted proxy so each test can act from its own client IP. */
  const send = (host: string, path: string, clientIp: string, options: { method?: string; form?: Record<string, string>; cookie?: string; id: string }) =>
    request(`${proxy.url}${path}`, {
      method: options.method ?? (options.form ? 'POST' : 'GET'),
      headers: {
        host,
        'x-forwarded-for': clientIp,
        'x-request-id': options.id,
        ...(options.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...(options.cookie ? { cookie: options.cookie } : {}),
      },
      body: options.form ? new URLSearchParams(options.form).toString() : undefined,
    });
  const record = (id: string) => waitForRecord(proxy.logDir, id);

  for (const kind of [
    { method: 'password', host: 'wiki.test', field: 'password', secret: PASSWORD, wrongReason: 'invalid password', user: 'wiki-team' },
    { method: 'pin', host: 'door.test', field: 'pin', secret: PIN, wrongReason: 'invalid PIN', user: undefined },
  ] as const) {
    test(`${kind.method}: no session shows the login page (401)`, async () => {
      const response = await send(kind.host, '/docs/page', '198.51.100.1', { id: `${kind.method}-page` });
      assert.equal(response.statusCode, 401);
      const page = await response.body.text();
      assert.match(page, new RegExp(`name="${kind.field}"`));
      assert.match(page, /action="\/\.proxy\/login"/);
      assert.match(page, /value="\/docs\/page"/);
      const line = await record(`${kind.method}-page`);
      assert.equal(line.auth_method, kind.method);
      assert.equal(line.reason, 'missing session');
    });

    test(`${kind.method}: wrong secret is denied with 401 and its reason`, async () => {
      const response = await send(kind.host, '/.proxy/login', '198.51.100.2', { form: { [kind.field]: 'wrong-000', return_to: '/' }, id: `${kind.method}-wrong` });
      assert.equal(response.statusCode, 401);
      await response.body.text();
      const line = await record(`${kind.method}-wrong`);
      assert.equal(line.status, 401);
      assert.equal(line.auth_method, kind.method);
      assert.equal(line.reason, kind.wrongReason);
      assert.equal(line.user_id, undefined);
    });

    test(`${kind.method}: right secret sets a session cookie, then requests are allowed`, async () => {
      const login = await send(kind.host, '/.proxy/login', '198.51.100.3', { form: { [kind.field]: kind.secret, return_to: '/docs/page?x=1' }, id: `${kind.method}-login` });
      assert.equal(login.statusCode, 303);
      assert.equal(login.headers.location, '/docs/page?x=1');
      const setCookie = String(login.headers['set-cookie']);
      assert.match(setCookie, /^proxy_session=[^;]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
      await login.body.text();
      const loginLine = await record(`${kind.method}-login`);
      assert.equal(loginLine.status, 303);
      assert.equal(loginLine.reason, undefined);
      assert.equal(loginLine.user_id, kind.user);

      const cookie = `theme=dark; ${setCookie.split(';')[0]}`;
      const allowed = await send(kind.host, '/docs/page', '198.51.100.3', { cookie, id: `${kind.method}-allowed` });
      assert.equal(allowed.statusCode, 200);
      const echoed = (await allowed.body.json()) as { headers: Record<string, string> };
      assert.equal(echoed.headers.cookie, 'theme=dark', 'the session cookie is stripped before forwarding');
      const line = await record(`${kind.method}-allowed`);
      assert.equal(line.status, 200);
      assert.equal(line.auth_method, kind.method);
      assert.equal(line.user_id, kind.user);
      assert.equal(line.reason, undefined);

      const otherService = await send(kind.host === 'wiki.test' ? 'door.test' : 'wiki.test', '/', '198.51.100.3', { cookie, id: `${kind.method}-cross` });
      assert.equal(otherService.statusCode, 401, "one service's session does not open another");
      await otherService.body.text();

      const logout = await send(kind.host, '/.proxy/logout', '198.51.100.3', { cookie, id: `${kind.method}-logout` });
      assert.equal(logout.statusCode, 303);
      assert.match(String(logout.headers['set-cookie']), /^proxy_session=; Path=\/; Max-Age=0/);
      await logout.body.text();
    });

    test(`${kind.method}: beyond the failed-attempt limit, 429 too many failed attempts, even for the right secret`, async () => {
      const ip = kind.method === 'pin' ? '198.51.100.40' : '198.51.100.41';
      for (let attempt = 0; attempt < 3; attempt++) {
        const response = await send(kind.host, '/.proxy/login', ip, { form: { [kind.field]: `bad-${attempt}` }, id: `${kind.method}-limit-${attempt}` });
        assert.equal(response.statusCode, 401);
        await response.body.text();
      }
      const blocked = await send(kind.host, '/.proxy/login', ip, { form: { [kind.field]: kind.secret }, id: `${kind.method}-limited` });
      assert.equal(blocked.statusCode, 429);
      await blocked.body.text();
      const line = await record(`${kind.method}-limited`);
      assert.equal(line.status, 429);
      assert.equal(line.reason, 'too many failed attempts');
      assert.equal(line.auth_method, kind.method);

      const otherIp = await send(kind.host, '/.proxy/login', '198.51.100.99', { form: { [kind.field]: kind.secret }, id: `${kind.method}-other-ip` });
      assert.equal(otherIp.statusCode, 303, 'the limit is per source IP');
      await otherIp.body.text();
    });
  }

  test('behind a TLS terminator (trusted X-Forwarded-Proto: https) the session cookie is Secure', async () => {
    const response = await request(`${proxy.url}/.proxy/login`, {
      method: 'POST',
      headers: { host: 'wiki.test', 'x-forwarded-proto': 'https', 'x-request-id': 'secure-login', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ password: PASSWORD }).toString(),
    });
    assert.equal(response.statusCode, 303);
    assert.match(String(response.headers['set-cookie']), /; HttpOnly; SameSite=Lax; Secure$/);
    await response.body.text();
    assert.equal((await record('secure-login')).protocol, 'https');
  });

  test('a tampered session cookie is refused', async () => {
    const login = await send('wiki.test', '/.proxy/login', '198.51.100.5', { form: { password: PASSWORD }, id: 'tamper-login' });
    const value = String(login.headers['set-cookie']).split(';')[0]!.slice('proxy_session='.length);
    await login.body.text();
    const [payload, mac] = value.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), user: 'admin' })).toString('base64url');
    const response = await send('wiki.test', '/', '198.51.100.5', { cookie: `proxy_session=${forged}.${mac}`, id: 'tampered' });
    assert.equal(response.statusCode, 401);
    await response.body.text();
    assert.equal((await record('tampered')).reason, 'invalid session');
  });

  test('the return path cannot redirect off-site', async () => {
    const response = await send('wiki.test', '/.proxy/login', '198.51.100.6', { form: { password: PASSWORD, return_to: '//evil.example/' }, id: 'open-redirect' });
    assert.equal(response.statusCode, 303);
    assert.equal(response.headers.location, '/');
    await response.body.text();
    const line = await record('open-redirect');
    assert.equal(line.status, 303);
    assert.equal(line.user_id, 'wiki-team');
  });
});

describe('an expired session', () => {
  const TTL_SECONDS = 600;
  let upstream: Upstream;
  let proxy: TestProxy;
  let keyDir: string;
  let signer: CookieSigner;

  before(async () => {
    upstream = await startUpstream();
    // A known signing key, so the test can hold a session whose expiry has passed without waiting.
    keyDir = await tempDir('session-key');
    const key = randomBytes(32);
    await writeFile(join(keyDir, 'session.key'), key);
    signer = new CookieSigner(key);
    proxy = await startTestProxy({
      trusted_proxies: ['127.0.0.1'],
      sessions: { ttl_seconds: TTL_SECONDS, secret_file: join(keyDir, 'session.key') },
      services: [serviceConfig('wiki', upstream.url, { method: 'password', hash: await hashSecret(PASSWORD) })],
    });
  });

  after(async () => {
    await proxy.stop();
    await upstream.close();
    await removeDir(proxy.logDir);
    await removeDir(keyDir);
  });

  test('gets the login page again', async () => {
    const get = (value: string, id: string) => request(`${proxy.url}/docs`, { headers: { host: 'wiki.test', cookie: `${SESSION_COOKIE}=${value}`, 'x-request-id': id } });
    const loggedInAt = Math.floor(Date.now() / 1000);
    const login = await request(`${proxy.url}/.proxy/login`, {
      method: 'POST',
      headers: { host: 'wiki.test', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ password: PASSWORD }).toString(),
    });
    assert.equal(login.statusCode, 303);
    await login.body.text();
    const issued = String(login.headers['set-cookie']).split(';')[0]!.slice(`${SESSION_COOKIE}=`.length);
    const read = signer.verify<Session>(issued, loggedInAt);
    assert.ok(read.status === 'valid', `the issued session reads back (${read.status})`);
    const session = read.value;
    assert.ok(session.exp >= loggedInAt + TTL_SECONDS && session.exp <= Math.floor(Date.now() / 1000) + TTL_SECONDS, 'the session lasts the configured time');

    const fresh = await get(issued, 'before-expiry');
    assert.equal(fresh.statusCode, 200);
    await fresh.body.text();

    // The same session, its expiry a second ago: what the issued cookie becomes once TTL_SECONDS pass.
    const expired = await get(signer.sign({ ...session, exp: Math.floor(Date.now() / 1000) - 1 }), 'after-expiry');
    assert.equal(expired.statusCode, 401);
    assert.match(await expired.body.text(), /name="password"/);
    const line = await waitForRecord(proxy.logDir, 'after-expiry');
    assert.equal(line.status, 401);
    assert.equal(line.reason, 'session expired');
    assert.equal(line.user_id, undefined);
  });
});
