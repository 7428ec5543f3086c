// Nothing secret reaches any log: known passwords, PINs, query strings, cookies, Authorization
// headers, OIDC codes, state and tokens are sent through the real proxy process, then every
// access-log file and the process's stderr are searched for them.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { request } from 'undici';
import { hashSecret } from '../../proxy/secret-hash.ts';
import { freePort, logFiles, removeDir, startUpstream, tempDir } from './helpers.ts';
import { startIssuerFront } from './issuer-front.ts';
import { spawnProxy } from './process.ts';
import { Browser, ssoLogin } from './sso-flow.ts';

const PASSWORD = 'Leak-Password-7f3a9c';
const WRONG_PASSWORD = 'Leak-Wrong-Password-e41d';
const PIN = '90817263';
const WRONG_PIN = '55128844';
const QUERY_SECRET = 'QUERY-SECRET-1b2c3d';
const COOKIE_SECRET = 'COOKIE-SECRET-4e5f6a';
const BEARER = 'AUTH-TOKEN-7a8b9c';
const BASIC = Buffer.from('user:BASIC-PASSWORD-0d1e').toString('base64');

test('no secret appears in any log file or in stderr', async () => {
  const upstream = await startUpstream();
  const dir = await tempDir('secrets');
  const port = await freePort();
  const site = `http://sso.test:${port}`;
  const issuer = await startIssuerFront([{ sub: 'alice', email: 'alice@example.com' }], [{ client_id: 'proxy', client_secret: 'CLIENT-SECRET-2f3e', redirect_uris: [`${site}/.proxy/callback`] }]);
  const proxy = await spawnProxy(dir, {
    proxy_id: 'secrets',
    listen: { host: '127.0.0.1', port },
    access_log: { dir: `${dir}/logs` },
    services: [
      { id: 'open', hosts: ['open.test'], upstream: upstream.url, auth: { method: 'none' } },
      { id: 'wiki', hosts: ['wiki.test'], upstream: upstream.url, auth: { method: 'password', hash: await hashSecret(PASSWORD) } },
      { id: 'door', hosts: ['door.test'], upstream: upstream.url, auth: { method: 'pin', hash: await hashSecret(PIN) } },
      { id: 'sso', hosts: ['sso.test'], upstream: upstream.url, auth: { method: 'sso', issuer: issuer.url, client_id: 'proxy', client_secret: 'CLIENT-SECRET-2f3e' } },
    ],
  });
  const secrets = [PASSWORD, WRONG_PASSWORD, PIN, WRONG_PIN, QUERY_SECRET, COOKIE_SECRET, BEARER, BASIC, 'CLIENT-SECRET-2f3e'];
  try {
    const send = async (host: string, path: string, init: { method?: string; headers?: Record<string, string>; form?: Record<string, string> } = {}) => {
      const response = await request(`${proxy.url}${path}`, {
        method: init.method ?? (init.form ? 'POST' : 'GET'),
        headers: { host, ...init.headers, ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        body: init.form ? new URLSearchParams(init.form).toString() : undefined,
      });
      await response.body.text();
      return response;
    };
    await send('open.test', `/search?api_key=${QUERY_SECRET}&q=x`, { headers: { cookie: `tracking=${COOKIE_SECRET}`, authorization: `Bearer ${BEARER}` } });
    await send('open.test', `/basic?token=${QUERY_SECRET}`, { headers: { authorization: `Basic ${BASIC}` } });
    await send('wiki.test', `/.proxy/login?next=${QUERY_SECRET}`, { form: { password: WRONG_PASSWORD } });
    const login = await send('wiki.test', '/.proxy/login', { form: { password: PASSWORD, return_to: `/page?key=${QUERY_SECRET}` } });
    const session = String(login.headers['set-cookie']).split(';')[0]!;
    secrets.push(session.slice('proxy_session='.length));
    await send('wiki.test', `/page?key=${QUERY_SECRET}`, { headers: { cookie: `${session}; tracking=${COOKIE_SECRET}` } });
    await send('door.test', '/.proxy/login', { form: { pin: WRONG_PIN } });
    await send('door.test', '/.proxy/login', { form: { pin: PIN } });

    const browser = new Browser();
    const { callbackUrl, callback } = await ssoLogin(browser, proxy.url, site, `/app?secret=${QUERY_SECRET}`, 'alice');
    assert.equal(callback.status, 302);
    const callbackParams = new URL(callbackUrl).searchParams;
    secrets.push(callbackParams.get('code')!, callbackParams.get('state')!, browser.cookie(site, 'proxy_session')!);
    await browser.fetch(`${site}/app`, { connectTo: proxy.url });
    for (const body of issuer.tokenResponses) {
      const tokens = JSON.parse(body) as { access_token: string; id_token: string };
      secrets.push(tokens.access_token, tokens.id_token);
    }
    assert.ok(issuer.tokenResponses.length > 0);
  } finally {
    assert.equal(await proxy.terminate(), 0);
    await issuer.stop();
    await upstream.close();
  }

  const texts: Array<[string, string]> = [['stderr', proxy.stderr()]];
  for (const file of await logFiles(`${dir}/logs`)) texts.push([file, await readFile(file, 'utf8')]);
  const lines = texts.slice(1).reduce((count, [, text]) => count + text.split('\n').filter(Boolean).length, 0);
  assert.ok(lines >= 10, `expected the requests to be logged, found ${lines} lines`);
  for (const secret of secrets) {
    assert.ok(secret && secret.length >= 6);
    for (const [where, text] of texts) assert.ok(!text.includes(secret), `${where} contains a secret (${secret.slice(0, 4)}…)`);
  }
  await removeDir(dir);
});
