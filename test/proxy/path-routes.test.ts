// Path routes: services sharing a host by path prefix, the longest prefix winning on whole
// segments, strip_prefix, the host's /.proxy/ endpoints going to its signing-in service, paths
// that try to reach a route through another one, and the record naming the route that matched.

import assert from 'node:assert/strict';
import { request as rawRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { LOGIN_PATH } from '../../proxy/auth/endpoints.ts';
import { waitFor } from '../helpers/wait.ts';
import { cheapSecretHash, readRecords, removeDir, startTestProxy, startUpstream, type TestProxy, type Upstream } from './helpers.ts';

const PASSWORD = 'route secret';

describe('path routes', () => {
  let site: Upstream;
  let api: Upstream;
  let proxy: TestProxy;

  before(async () => {
    site = await startUpstream();
    api = await startUpstream();
    proxy = await startTestProxy({
      services: [
        { id: 'site', hosts: ['paths.test'], upstream: site.url, auth: { method: 'none' } },
        { id: 'api', hosts: ['paths.test'], paths: ['/api/'], strip_prefix: true, upstream: api.url, auth: { method: 'none' } },
        { id: 'api-v2', hosts: ['paths.test'], paths: ['/api/v2'], upstream: api.url, auth: { method: 'password', hash: cheapSecretHash(PASSWORD), user_id: 'v2-team' } },
        { id: 'docs', hosts: ['docs.test'], paths: ['/docs', '/manual'], upstream: site.url, auth: { method: 'none' } },
      ],
    });
  });

  after(async () => {
    await proxy.stop();
    await site.close();
    await api.close();
    await removeDir(proxy.logDir);
  });

  /** One request; its status, headers and the target the upstream saw (its echo). */
  async function send(host: string, target: string, options: { cookie?: string; form?: Record<string, string> } = {}) {
    const response = await request(`${proxy.url}${target}`, {
      method: options.form ? 'POST' : 'GET',
      headers: {
        host,
        ...(options.cookie ? { cookie: options.cookie } : {}),
        ...(options.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: options.form ? new URLSearchParams(options.form).toString() : undefined,
    });
    const body = await response.body.text();
    const echoed = response.headers['x-upstream'] === 'yes' ? (JSON.parse(body) as { url: string }) : undefined;
    return { status: response.statusCode, upstreamUrl: echoed?.url, headers: response.headers };
  }

  /** The latest line for a logged path (each test sends paths of its own). */
  const lineOf = async (path: string, status?: number) =>
    await waitFor(`the line for ${path}`, async () => (await readRecords(proxy.logDir)).filter((record) => record.path === path && (status === undefined || record.status === status)).at(-1), { timeoutMs: 5_000 });

  test('the host without a matching prefix goes to the / route, untouched', async () => {
    const sent = await send('paths.test', '/index.html?lang=en');
    assert.equal(sent.status, 200);
    assert.equal(sent.upstreamUrl, '/index.html?lang=en');
    assert.equal((await lineOf('/index.html')).service, 'site');
  });

  test('a prefix route gets its paths, with the prefix stripped when asked', async () => {
    const sent = await send('paths.test', '/api/users/7?fields=name');
    assert.equal(sent.status, 200);
    assert.equal(sent.upstreamUrl, '/users/7?fields=name');
    const line = await lineOf('/api/users/7');
    assert.equal(line.service, 'api');
    assert.equal((await send('paths.test', '/api')).upstreamUrl, '/', 'the prefix itself is the upstream root');
    assert.equal((await lineOf('/api')).service, 'api');
  });

  test('prefixes match whole segments: /apix is not under /api', async () => {
    const sent = await send('paths.test', '/apix/y');
    assert.equal(sent.upstreamUrl, '/apix/y');
    assert.equal((await lineOf('/apix/y')).service, 'site');
  });

  test('the longest prefix wins, with its own auth and no strip', async () => {
    const denied = await send('paths.test', '/api/v2/orders');
    assert.equal(denied.status, 401);
    assert.equal(denied.upstreamUrl, undefined);
    const line = await lineOf('/api/v2/orders');
    assert.equal(line.service, 'api-v2');
    assert.equal(line.auth_method, 'password');
    // The login endpoint is the host's, answered by its signing-in service whatever the prefix.
    const login = await send('paths.test', LOGIN_PATH, { form: { password: PASSWORD, return_to: '/api/v2/orders' } });
    assert.equal(login.status, 303);
    assert.equal((await lineOf(LOGIN_PATH)).service, 'api-v2');
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const allowed = await send('paths.test', '/api/v2/orders?page=2', { cookie });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.upstreamUrl, '/api/v2/orders?page=2');
    assert.equal((await lineOf('/api/v2/orders', 200)).user_id, 'v2-team');
  });

  test('dot segments, escapes and doubled slashes are routed as the upstream will read them', async () => {
    // node:http sends the target as written (undici's client would resolve the dots itself).
    const status = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = rawRequest(`${proxy.url}/`, { path, headers: { host: 'paths.test' } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.once('error', reject).end();
      });
    for (const path of ['/public/../api/v2/secret', '/%61pi/v2/secret', '/api//v2/secret', '/api/%2E%2E/api/v2/secret', '/api\\v2/secret']) {
      assert.equal(await status(path), 401, `${path} reaches the password route`);
      const line = await lineOf(path);
      assert.equal(line.service, 'api-v2', path);
    }
  });

  test('a host whose routes all have prefixes: other paths are 404 unknown path', async () => {
    assert.equal((await send('docs.test', '/manual/intro')).upstreamUrl, '/manual/intro');
    const sent = await send('docs.test', '/blog');
    assert.equal(sent.status, 404);
    const line = await lineOf('/blog');
    assert.equal(line.reason, 'unknown path');
    assert.equal(line.service, undefined);
    assert.equal((await send('nowhere.test', '/blog')).status, 404);
  });
});
