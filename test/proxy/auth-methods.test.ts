// A service with several methods (password, PIN, SSO, Basic): the chooser page for a browser with
// nothing to show, each method's login from there, and the record each request leaves — the
// method that admitted it, the one a denied request tried, or `none` when it tried nothing.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { AUTHENTICATION_REQUIRED_REASON } from '../../proxy/auth/chooser.ts';
import { LOGIN_PAGE_POLICY } from '../../proxy/auth/login-page.ts';
import { CookieSigner, SESSION_COOKIE, type Session } from '../../proxy/auth/session-cookie.ts';
import { LOCAL_RESPONSE_HEADERS } from '../../proxy/respond.ts';
import { cheapSecretHash, fakeClock, removeDir, serviceConfig, startTestProxy, startUpstream, waitForRecord, type TestProxy, type Upstream } from './helpers.ts';
import { startIssuerFront, type IssuerFront } from './issuer-front.ts';

const PASSWORD = 'several-methods-password';
const PIN = '731904';
const HOST = 'multi.test';

describe('a service with several auth methods', () => {
  let upstream: Upstream;
  let issuer: IssuerFront;
  let proxy: TestProxy;
  const time = fakeClock();

  before(async () => {
    upstream = await startUpstream();
    issuer = await startIssuerFront([{ sub: 'alice', email: 'alice@example.com' }], [{ client_id: 'proxy', client_secret: 'client-secret-for-tests', redirect_uris: [`http://${HOST}/.proxy/callback`] }]);
    proxy = await startTestProxy(
      {
        trusted_proxies: ['127.0.0.1'],
        login_rate_limit: { max_failed_attempts: 3, window_seconds: 60 },
        services: [
          serviceConfig('multi', upstream.url, [
            { method: 'password', hash: cheapSecretHash(PASSWORD), user_id: 'multi-team' },
            { method: 'pin', hash: cheapSecretHash(PIN) },
            { method: 'sso', issuer: issuer.url, client_id: 'proxy', client_secret: 'client-secret-for-tests' },
            { method: 'basic', users: [{ username: 'robot', hash: cheapSecretHash('robot-secret') }] },
          ]),
        ],
      },
      undefined,
      time.clock,
    );
  });

  after(async () => {
    await proxy.stop();
    await issuer.stop();
    await upstream.close();
    await removeDir(proxy.logDir);
  });

  const send = (path: string, clientIp: string, id: string, options: { form?: Record<string, string>; cookie?: string; headers?: Record<string, string>; method?: string } = {}) =>
    request(`${proxy.url}${path}`, {
      method: options.method ?? (options.form ? 'POST' : 'GET'),
      headers: {
        host: HOST,
        'x-forwarded-for': clientIp,
        'x-request-id': id,
        ...(options.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...(options.cookie ? { cookie: options.cookie } : {}),
        ...options.headers,
      },
      body: options.form ? new URLSearchParams(options.form).toString() : undefined,
    });
  const record = (id: string) => waitForRecord(proxy.logDir, id);

  test('a browser with nothing to show gets the chooser (401), recorded as none / authentication required', async () => {
    const response = await send('/reports/q3?year=2026', '198.51.100.10', 'chooser-page', { headers: { accept: 'text/html,*/*' } });
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers['www-authenticate'], undefined, 'no Basic challenge for a browser: it would open its own dialog over the page');
    assert.equal(response.headers['content-security-policy'], LOGIN_PAGE_POLICY);
    for (const [name, value] of Object.entries(LOCAL_RESPONSE_HEADERS)) if (name !== 'content-security-policy') assert.equal(response.headers[name], value, name);
    const page = await response.body.text();
    const returnTo = encodeURIComponent('/reports/q3?year=2026');
    for (const method of ['password', 'pin', 'sso']) assert.match(page, new RegExp(`href="/\\.proxy/login/${method}\\?return_to=${returnTo.replace(/[?%]/g, '\\$&')}"`), method);
    assert.match(page, /HTTP Basic/);
    assert.doesNotMatch(page, /<script|https?:\/\//, 'nothing from elsewhere, nothing to run');
    const line = await record('chooser-page');
    assert.equal(line.auth_method, 'none');
    assert.equal(line.reason, AUTHENTICATION_REQUIRED_REASON);
    assert.equal(line.status, 401);
  });

  test('a script with nothing to show gets 401 with the Basic challenge; a POST the same without the page', async () => {
    const get = await send('/api/items', '198.51.100.11', 'chooser-script');
    assert.equal(get.statusCode, 401);
    assert.equal(get.headers['www-authenticate'], 'Basic realm="multi"');
    await get.body.text();
    const post = await send('/api/items', '198.51.100.11', 'chooser-post', { method: 'POST', headers: { 'content-type': 'application/json' } });
    assert.equal(post.statusCode, 401);
    assert.equal(post.headers['www-authenticate'], 'Basic realm="multi"');
    assert.equal(await post.body.text(), 'login required\n');
    for (const id of ['chooser-script', 'chooser-post']) {
      const line = await record(id);
      assert.equal(line.auth_method, 'none', id);
      assert.equal(line.reason, AUTHENTICATION_REQUIRED_REASON, id);
    }
  });

  test('the chooser at /.proxy/login (200) keeps the return path it was given, and only a safe one', async () => {
    const response = await send(`/.proxy/login?return_to=${encodeURIComponent('/wiki/start')}`, '198.51.100.12', 'chooser-direct');
    assert.equal(response.statusCode, 200);
    assert.match(await response.body.text(), /href="\/\.proxy\/login\/pin\?return_to=%2Fwiki%2Fstart"/);
    const offsite = await send(`/.proxy/login?return_to=${encodeURIComponent('//evil.example/x')}`, '198.51.100.12', 'chooser-offsite');
    assert.match(await offsite.body.text(), /href="\/\.proxy\/login\/pin\?return_to=%2F"/);
  });

  test('password from the chooser: its form posts to its own path, the session admits as password', async () => {
    const form = await send(`/.proxy/login/password?return_to=${encodeURIComponent('/reports')}`, '198.51.100.13', 'pw-form');
    assert.equal(form.statusCode, 200);
    const page = await form.body.text();
    assert.match(page, /action="\/\.proxy\/login\/password"/);
    assert.match(page, /name="return_to" value="\/reports"/);
    assert.equal((await record('pw-form')).auth_method, 'password');

    const wrong = await send('/.proxy/login/password', '198.51.100.13', 'pw-wrong', { form: { password: 'nope', return_to: '/reports' } });
    assert.equal(wrong.statusCode, 401);
    await wrong.body.text();
    const wrongLine = await record('pw-wrong');
    assert.equal(wrongLine.auth_method, 'password');
    assert.equal(wrongLine.reason, 'invalid password');

    const login = await send('/.proxy/login/password', '198.51.100.13', 'pw-login', { form: { password: PASSWORD, return_to: '/reports' } });
    assert.equal(login.statusCode, 303);
    assert.equal(login.headers.location, '/reports');
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    await login.body.text();
    const allowed = await send('/reports', '198.51.100.13', 'pw-allowed', { cookie });
    assert.equal(allowed.statusCode, 200);
    await allowed.body.text();
    const line = await record('pw-allowed');
    assert.equal(line.auth_method, 'password');
    assert.equal(line.user_id, 'multi-team');
    assert.equal(line.reason, undefined);

    const logout = await send('/.proxy/logout', '198.51.100.13', 'pw-logout', { cookie });
    assert.equal(logout.statusCode, 303);
    await logout.body.text();
    const logoutLine = await record('pw-logout');
    assert.equal(logoutLine.auth_method, 'password');
    assert.equal(logoutLine.reason, 'logged out');
    const after = await send('/reports', '198.51.100.13', 'pw-revoked', { cookie, headers: { accept: 'text/html' } });
    assert.equal(after.statusCode, 401);
    await after.body.text();
    const revoked = await record('pw-revoked');
    assert.equal(revoked.auth_method, 'password', 'the method the revoked session was made by');
    assert.equal(revoked.reason, 'session revoked');
  });

  test('PIN from the chooser: wrong, then right; the session admits as pin', async () => {
    const wrong = await send('/.proxy/login/pin', '198.51.100.14', 'pin-wrong', { form: { pin: '000000', return_to: '/' } });
    assert.equal(wrong.statusCode, 401);
    assert.match(await wrong.body.text(), /action="\/\.proxy\/login\/pin"/);
    assert.equal((await record('pin-wrong')).reason, 'invalid PIN');
    const login = await send('/.proxy/login/pin', '198.51.100.14', 'pin-login', { form: { pin: PIN, return_to: '/' } });
    assert.equal(login.statusCode, 303);
    await login.body.text();
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const allowed = await send('/door', '198.51.100.14', 'pin-allowed', { cookie });
    assert.equal(allowed.statusCode, 200);
    await allowed.body.text();
    const line = await record('pin-allowed');
    assert.equal(line.auth_method, 'pin');
    assert.equal(line.user_id, undefined);
  });

  test('SSO from the chooser: /.proxy/login/sso redirects to the issuer with the callback and the return path saved', async () => {
    const start = await send(`/.proxy/login/sso?return_to=${encodeURIComponent('/after-sso')}`, '198.51.100.15', 'sso-start');
    assert.equal(start.statusCode, 302);
    const location = new URL(String(start.headers.location));
    assert.equal(location.origin, new URL(issuer.url).origin);
    assert.equal(location.searchParams.get('redirect_uri'), `http://${HOST}/.proxy/callback`);
    await start.body.text();
    const line = await record('sso-start');
    assert.equal(line.auth_method, 'sso');
    const callback = await send('/.proxy/callback?code=x&state=y', '198.51.100.15', 'sso-callback-bare');
    assert.equal(callback.statusCode, 403);
    await callback.body.text();
    const callbackLine = await record('sso-callback-bare');
    assert.equal(callbackLine.auth_method, 'sso');
    assert.equal(callbackLine.reason, 'missing SSO login state');
  });

  test('an expired session records the method it was made by, with its reason', async () => {
    const login = await send('/.proxy/login/pin', '198.51.100.16', 'expiry-login', { form: { pin: PIN, return_to: '/' } });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    await login.body.text();
    time.advance(13 * 3_600_000);
    try {
      const expired = await send('/', '198.51.100.16', 'expiry-expired', { cookie, headers: { accept: 'text/html' } });
      assert.equal(expired.statusCode, 401);
      assert.match(await expired.body.text(), /Sign-in methods/);
      const line = await record('expiry-expired');
      assert.equal(line.auth_method, 'pin');
      assert.equal(line.reason, 'session expired');
    } finally {
      time.advance(-13 * 3_600_000);
    }
  });

  test("a session of a method the service does not allow is no session; a forged one is an invalid session under none", async () => {
    const session: Session = { sid: 'x', service: 'multi', method: 'password', exp: Math.floor(Date.now() / 1000) + 60 };
    const forged = new CookieSigner(Buffer.alloc(32, 7)).sign(session);
    const response = await send('/', '198.51.100.17', 'forged-session', { cookie: `${SESSION_COOKIE}=${forged}` });
    assert.equal(response.statusCode, 401);
    await response.body.text();
    const line = await record('forged-session');
    assert.equal(line.auth_method, 'none');
    assert.equal(line.reason, 'invalid session');
  });

  test('Basic credentials on a service with several methods admit as basic, a wrong password is recorded as basic', async () => {
    const robot = `Basic ${Buffer.from('robot:robot-secret').toString('base64')}`;
    const allowed = await send('/api/items', '198.51.100.18', 'multi-basic', { headers: { authorization: robot } });
    assert.equal(allowed.statusCode, 200);
    const echoed = (await allowed.body.json()) as { headers: Record<string, string> };
    assert.equal(echoed.headers.authorization, undefined, 'the credentials meant for the proxy stay with it');
    const line = await record('multi-basic');
    assert.equal(line.auth_method, 'basic');
    assert.equal(line.user_id, 'robot');
    const wrong = await send('/api/items', '198.51.100.18', 'multi-basic-wrong', { headers: { authorization: `Basic ${Buffer.from('robot:nope').toString('base64')}` } });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.headers['www-authenticate'], 'Basic realm="multi"');
    await wrong.body.text();
    const wrongLine = await record('multi-basic-wrong');
    assert.equal(wrongLine.auth_method, 'basic');
    assert.equal(wrongLine.reason, 'invalid password');
  });

  test('the failed-attempt limit is one per source across the methods', async () => {
    const ip = '198.51.100.19';
    await (await send('/.proxy/login/password', ip, 'mix-1', { form: { password: 'a' } })).body.text();
    await (await send('/.proxy/login/pin', ip, 'mix-2', { form: { pin: 'b' } })).body.text();
    await (await send('/', ip, 'mix-3', { headers: { authorization: `Basic ${Buffer.from('robot:c').toString('base64')}` } })).body.text();
    const limited = await send('/.proxy/login/password', ip, 'mix-4', { form: { password: PASSWORD } });
    assert.equal(limited.statusCode, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    await limited.body.text();
    const line = await record('mix-4');
    assert.equal(line.auth_method, 'password');
    assert.equal(line.reason, 'too many failed attempts');
  });

  test('an unknown method under /.proxy/login/ is a 404', async () => {
    const response = await send('/.proxy/login/link', '198.51.100.20', 'unknown-method');
    assert.equal(response.statusCode, 404);
    await response.body.text();
    assert.equal((await record('unknown-method')).reason, 'unknown proxy endpoint');
  });
});
