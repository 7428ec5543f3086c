// SSO services against a real OpenID Connect issuer (oidc-provider): the whole authorization-code
// flow with PKCE, allowed and refused users, a state mismatch, an ID token for the wrong audience,
// and the failed-attempt limit; each outcome checked in the log.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { accessRecordSchema } from '../../common/access-record.ts';
import { freePort, readRecords, removeDir, startTestProxy, startUpstream, type TestProxy, type Upstream } from './helpers.ts';
import { startIssuerFront, type IssuerFront } from './issuer-front.ts';
import { Browser, ssoLogin } from './sso-flow.ts';

describe('SSO service', () => {
  let upstream: Upstream;
  let issuer: IssuerFront;
  let proxy: TestProxy;
  let site: string;

  before(async () => {
    upstream = await startUpstream();
    const proxyPort = await freePort();
    site = `http://sso.test:${proxyPort}`;
    const redirects = [`${site}/.proxy/callback`, `http://sso-groups.test:${proxyPort}/.proxy/callback`];
    issuer = await startIssuerFront(
      [
        { sub: 'alice', email: 'alice@example.com', groups: ['staff'], name: 'Alice Archer' },
        { sub: 'bob', email: 'bob@example.com', groups: ['contractors'] },
        { sub: 'carol', groups: ['staff'], name: 'Carol Chen' },
        { sub: 'dave', email: '', groups: ['staff'], name: '' },
      ],
      [{ client_id: 'proxy', client_secret: 'client-secret-for-tests', redirect_uris: redirects }],
    );
    const frontUrl = issuer.url;
    proxy = await startTestProxy({
      listen: { host: '127.0.0.1', port: proxyPort },
      trusted_proxies: ['127.0.0.1'],
      login_rate_limit: { max_failed_attempts: 2, window_seconds: 60 },
      services: [
        {
          id: 'sso',
          hosts: ['sso.test'],
          upstream: upstream.url,
          auth: { method: 'sso', issuer: frontUrl, client_id: 'proxy', client_secret: 'client-secret-for-tests', allowed_users: ['alice', 'carol'] },
        },
        {
          id: 'sso-groups',
          hosts: ['sso-groups.test'],
          upstream: upstream.url,
          auth: { method: 'sso', issuer: frontUrl, client_id: 'proxy', client_secret: 'client-secret-for-tests', scopes: ['openid', 'email', 'groups'], allowed_groups: ['staff'] },
        },
      ],
    });
  });

  after(async () => {
    await proxy.stop();
    await issuer.stop();
    await upstream.close();
    await removeDir(proxy.logDir);
  });

  const lastLine = async (predicate: (line: Awaited<ReturnType<typeof readRecords>>[number]) => boolean) => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const found = (await readRecords(proxy.logDir)).filter(predicate).at(-1);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('no matching log line');
  };

  test('no session: redirect to the issuer (302, missing SSO session)', async () => {
    const browser = new Browser();
    const response = await browser.fetch(`${site}/dashboard?tab=1`, { connectTo: proxy.url });
    assert.equal(response.status, 302);
    const location = new URL(response.location!);
    assert.equal(location.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(location.searchParams.get('state'));
    assert.ok(location.searchParams.get('nonce'));
    const line = await lastLine((record) => record.path === '/dashboard' && record.status === 302);
    assert.equal(line.auth_method, 'sso');
    assert.equal(line.reason, 'missing SSO session');
  });

  test('allowed user: logs in, gets a session, requests are allowed with sub and email', async () => {
    const browser = new Browser();
    const { callback } = await ssoLogin(browser, proxy.url, site, '/reports?page=2', 'alice');
    assert.equal(callback.status, 302);
    assert.equal(callback.location, `${site}/reports?page=2`);
    const session = browser.cookie(site, 'proxy_session');
    assert.ok(session);
    const callbackLine = await lastLine((record) => record.path === '/.proxy/callback' && record.user_id === 'alice');
    assert.equal(callbackLine.status, 302);
    assert.equal(callbackLine.user_email, 'alice@example.com');
    assert.equal(callbackLine.user_name, 'Alice Archer', 'the default scopes ask for the profile');

    const page = await browser.fetch(`${site}/reports`, { connectTo: proxy.url });
    assert.equal(page.status, 200);
    const echoed = JSON.parse(page.body) as { headers: Record<string, string> };
    assert.equal(echoed.headers.cookie, undefined, "the proxy's cookies never reach the upstream");
    const line = await lastLine((record) => record.path === '/reports' && record.status === 200);
    assert.equal(line.auth_method, 'sso');
    assert.equal(line.user_id, 'alice');
    assert.equal(line.user_email, 'alice@example.com');
    assert.equal(line.user_name, 'Alice Archer', 'the session carries the name');
    assert.equal(line.reason, undefined);
  });

  test('allowed by group', async () => {
    const browser = new Browser();
    const groupSite = site.replace('sso.test', 'sso-groups.test');
    const { callback } = await ssoLogin(browser, proxy.url, groupSite, '/', 'carol');
    assert.equal(callback.status, 302);
    const line = await lastLine((record) => record.service === 'sso-groups' && record.path === '/.proxy/callback');
    assert.equal(line.user_id, 'carol');
    assert.equal(line.user_email, undefined);
    assert.equal(line.user_name, undefined, 'scopes without profile: no name');
  });

  test('empty email and name claims: the record names the user by sub only, and stays a valid record', async () => {
    const browser = new Browser();
    const groupSite = site.replace('sso.test', 'sso-groups.test');
    const { callback } = await ssoLogin(browser, proxy.url, groupSite, '/', 'dave');
    assert.equal(callback.status, 302);
    const line = await lastLine((record) => record.service === 'sso-groups' && record.path === '/.proxy/callback' && record.user_id === 'dave');
    assert.equal(line.user_email, undefined);
    assert.equal(line.user_name, undefined);
    assert.equal(accessRecordSchema.safeParse(line).success, true, 'the shipper takes the line');
  });

  test('user not allowed: 403 user not allowed', async () => {
    const browser = new Browser();
    const { callback } = await ssoLogin(browser, proxy.url, site, '/', 'bob', { clientIp: '198.51.100.11' });
    assert.equal(callback.status, 403);
    assert.equal(browser.cookie(site, 'proxy_session'), undefined);
    const line = await lastLine((record) => record.path === '/.proxy/callback' && record.user_id === 'bob');
    assert.equal(line.status, 403);
    assert.equal(line.reason, 'user not allowed');
    assert.equal(line.auth_method, 'sso');
  });

  test('state mismatch: 403', async () => {
    const browser = new Browser();
    const { callback } = await ssoLogin(browser, proxy.url, site, '/', 'alice', { clientIp: '198.51.100.12', tamperCallback: (url) => url.searchParams.set('state', 'forged-state') });
    assert.equal(callback.status, 403);
    const line = await lastLine((record) => record.path === '/.proxy/callback' && record.reason === 'state mismatch');
    assert.equal(line.status, 403);
  });

  test('ID token for another audience: 403', async () => {
    issuer.forgeAudience = true;
    try {
      const browser = new Browser();
      const { callback } = await ssoLogin(browser, proxy.url, site, '/', 'alice', { clientIp: '198.51.100.13' });
      assert.equal(callback.status, 403, callback.body);
    } finally {
      issuer.forgeAudience = false;
    }
    const line = await lastLine((record) => record.path === '/.proxy/callback' && record.reason === 'ID token audience mismatch');
    assert.equal(line.status, 403);
    assert.equal(line.user_id, undefined);
  });

  test('failed callbacks beyond the limit: 429 too many failed attempts', async () => {
    const browser = new Browser();
    const ip = '198.51.100.77';
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await browser.fetch(`${site}/.proxy/callback?code=x&state=y`, { connectTo: proxy.url, headers: { 'x-forwarded-for': ip } });
      assert.equal(response.status, 403);
    }
    const blocked = await browser.fetch(`${site}/.proxy/callback?code=x&state=y`, { connectTo: proxy.url, headers: { 'x-forwarded-for': ip } });
    assert.equal(blocked.status, 429);
    const line = await lastLine((record) => record.source_ip === ip && record.status === 429);
    assert.equal(line.reason, 'too many failed attempts');
    assert.equal(line.auth_method, 'sso');
  });
});
