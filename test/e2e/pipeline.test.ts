// End to end: the proxy, the shipper and the API each started as its own process from a config
// file (as the README says), the demo upstream and a real OIDC issuer behind them, requests of
// every outcome sent through the proxy, and each one found through GET /api/events/proxy.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { Agent, request } from 'undici';
import { generateToken } from '../../api/tokens.ts';
import { CALLBACK_PATH, LOGIN_PATH } from '../../proxy/auth/endpoints.ts';
import { hashSecret } from '../../proxy/secret-hash.ts';
import { geoOf } from '../../shipper/geo.ts';
import { startIssuer, type RunningIssuer } from '../../ops/oidc/issuer.ts';
import { BrowserLikeClient } from '../../ops/stack/browser-like-client.ts';
import type { Supervisor } from '../../ops/stack/supervisor.ts';
import { testElasticsearch, type TestElasticsearch } from '../helpers/elasticsearch.ts';
import { startPipeline } from '../helpers/pipeline-stack.ts';

const GB_ADDRESS = '81.2.69.142';
const PASSWORD = 'correct horse battery staple';
const PIN = '731946';

interface ApiRecord {
  id: string;
  service_id: string;
  path: string;
  status_code: number;
  auth_method_used: string;
  user_id?: string;
  user_email?: string;
  user_name?: string;
  reason?: string;
  country_code?: string;
  city_name?: string;
  source_ip: string;
}

describe('proxy → shipper → Elasticsearch → API', () => {
  let es: TestElasticsearch;
  let dir: string;
  let issuer: RunningIssuer;
  let supervisor: Supervisor;
  let agent: Agent;
  let proxyUrl: string;
  let apiUrl: string;
  const token = generateToken();

  /** The text of each mail the proxy sent (its body is base64). */
  const mails: string[] = [];
  const smtp = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        mails.push(Buffer.from(raw.slice(raw.indexOf('\r\n\r\n')).replace(/\s+/g, ''), 'base64').toString('utf8'));
        callback();
      });
    },
  });

  before(async () => {
    es = testElasticsearch('e2e');
    dir = await mkdtemp(join(tmpdir(), 'proxy-access-log-e2e-'));
    agent = new Agent();
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    ({ proxyUrl, apiUrl, supervisor } = await startPipeline({
      es,
      dir,
      token,
      proxyId: 'e2e-proxy',
      // Two workers: every outcome below crosses them (sessions, links, SSO state), and the shipper reads both folders.
      proxy: { workers: 2, smtp: { host: '127.0.0.1', port: (smtp.server.address() as AddressInfo).port, tls: 'none', from: 'proxy@e2e.localhost' } },
      services: async ({ proxyPort, upstream, deadPort }) => {
        issuer = await startIssuer({
          users: [
            { sub: 'alice', email: 'alice@example.com', groups: ['staff'], name: 'Alice Archer', preferred_username: 'aa' },
            { sub: 'eve', groups: ['visitors'], preferred_username: 'eve.v' },
          ],
          clients: [{ client_id: 'e2e', client_secret: 'e2e-secret', redirect_uris: [`http://sso.localhost:${proxyPort}${CALLBACK_PATH}`] }],
        });
        return [
          { id: 'mail', hosts: ['mail.localhost'], upstream, auth: { method: 'link', allowed_emails: ['dora@example.com'] } },
          { id: 'robots', hosts: ['robots.localhost'], upstream, auth: { method: 'basic', users: [{ username: 'robot', hash: await hashSecret(PASSWORD) }] } },
          { id: 'open', hosts: ['open.localhost'], upstream, auth: { method: 'none' } },
          { id: 'wiki', hosts: ['wiki.localhost'], upstream, auth: { method: 'password', hash: await hashSecret(PASSWORD), user_id: 'wiki-team' } },
          { id: 'door', hosts: ['door.localhost'], upstream, auth: { method: 'pin', hash: await hashSecret(PIN) } },
          { id: 'sso', hosts: ['sso.localhost'], upstream, auth: { method: 'sso', issuer: issuer.url, client_id: 'e2e', client_secret: 'e2e-secret', scopes: ['openid', 'email', 'profile', 'groups'], allowed_groups: ['staff'] } },
          { id: 'dead', hosts: ['dead.localhost'], upstream: `http://127.0.0.1:${deadPort}`, auth: { method: 'none' } },
          { id: 'slow', hosts: ['slow.localhost'], upstream, auth: { method: 'none' }, upstream_timeouts: { connect_ms: 1_000, headers_ms: 500, body_ms: 1_000 } },
        ];
      },
    }));
  });

  after(async () => {
    await supervisor?.stopAll();
    await agent?.close();
    await issuer?.stop();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    await es?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const visitor = () => new BrowserLikeClient({ ip: GB_ADDRESS, userAgent: 'e2e-test' }, proxyUrl, agent);
  const at = (host: string, path: string) => `http://${host}.localhost:${new URL(proxyUrl).port}${path}`;

  /** The one record the API returns for these filters, waiting for the pipeline to deliver it. */
  async function recordFor(filters: Record<string, string>): Promise<ApiRecord> {
    const deadline = Date.now() + 15_000;
    const query = new URLSearchParams(filters);
    while (Date.now() < deadline) {
      const response = await fetch(`${apiUrl}/api/events/proxy?${query}`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.status, 200);
      const { data } = (await response.json()) as { data: ApiRecord[] };
      if (data.length > 0) {
        assert.equal(data.length, 1, `one record for ${query}`);
        return data[0]!;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`no record for ${query} within 15 s`);
  }

  it('records an allowed request with the visitor’s country and city', async () => {
    assert.equal((await visitor().send(at('open', '/e2e/open'))).status, 200);
    const record = await recordFor({ path: '/e2e/open' });
    assert.equal(record.service_id, 'open');
    assert.equal(record.auth_method_used, 'none');
    assert.equal(record.source_ip, GB_ADDRESS);
    assert.equal(record.country_code, 'GB');
    // Whatever city the installed geo data gives (it moves between geoip-lite releases).
    assert.ok(record.city_name);
    assert.equal(record.city_name, geoOf(GB_ADDRESS)?.city_name);
    assert.equal(record.reason, undefined);
  });

  it('records password denials and the signed-in user', async () => {
    const client = visitor();
    assert.equal((await client.send(at('wiki', LOGIN_PATH), { form: { password: 'wrong', return_to: '/e2e/wiki-denied' } })).status, 401);
    const denied = await recordFor({ path: LOGIN_PATH, service_id: 'wiki', status_code: '401' });
    assert.equal(denied.auth_method_used, 'password');
    assert.equal(denied.reason, 'invalid password');
    await client.send(at('wiki', LOGIN_PATH), { form: { password: PASSWORD, return_to: '/' } });
    assert.equal((await client.send(at('wiki', '/e2e/wiki'))).status, 200);
    const allowed = await recordFor({ path: '/e2e/wiki' });
    assert.equal(allowed.user_id, 'wiki-team');
    assert.equal(allowed.auth_method_used, 'password');
  });

  it('records a PIN denial', async () => {
    assert.equal((await visitor().send(at('door', LOGIN_PATH), { form: { pin: '000000', return_to: '/' } })).status, 401);
    const record = await recordFor({ path: LOGIN_PATH, service_id: 'door' });
    assert.equal(record.status_code, 401);
    assert.equal(record.auth_method_used, 'pin');
    assert.equal(record.reason, 'invalid PIN');
  });

  it('records an SSO user who signed in, and one who is not allowed, with their names', async () => {
    const signIn = async (user: string, path: string) => {
      const client = visitor();
      const start = await client.send(at('sso', path));
      assert.equal(start.status, 302);
      const page = await client.follow(start.location!);
      const action = /action="(\/interaction\/[\w-]+\/login)"/.exec(page.body)?.[1];
      assert.ok(action, 'the issuer shows its sign-in form');
      return client.follow(new URL(action, issuer.url).href, { form: { login: user } });
    };
    const alice = await signIn('alice', '/e2e/sso');
    assert.equal(alice.status, 200);
    const allowed = await recordFor({ path: '/e2e/sso', status_code: '200' });
    assert.equal(allowed.user_id, 'alice');
    assert.equal(allowed.auth_method_used, 'sso');
    // The name claim, found by NetBird's user_name filter (substring, any case) and by e-mail.
    assert.equal(allowed.user_name, 'Alice Archer');
    assert.equal((await recordFor({ user_name: 'alice', path: '/e2e/sso' })).id, allowed.id);
    assert.equal((await recordFor({ user_email: 'alice@example.com', path: '/e2e/sso' })).id, allowed.id);
    const callback = await recordFor({ user_name: 'ARCHER', path: CALLBACK_PATH });
    assert.equal(callback.user_email, 'alice@example.com');

    const eve = await signIn('eve', '/e2e/sso-eve');
    assert.equal(eve.status, 403);
    const denied = await recordFor({ path: CALLBACK_PATH, status_code: '403' });
    assert.equal(denied.reason, 'user not allowed');
    assert.equal(denied.auth_method_used, 'sso');
    // Without a name claim, preferred_username.
    assert.equal(denied.user_name, 'eve.v');
    assert.equal((await recordFor({ user_name: 'eve.v' })).id, denied.id);
  });

  it('records a magic-link sign-in with the address as user, found by user_email', async () => {
    const client = visitor();
    assert.equal((await client.send(at('mail', LOGIN_PATH), { form: { email: 'dora@example.com', return_to: '/e2e/link' } })).status, 200);
    const deadline = Date.now() + 15_000;
    while (mails.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const link = /http:\/\/\S+\/\.proxy\/link\?token=[\w-]+/.exec(mails[0] ?? '')?.[0];
    assert.ok(link, 'the proxy mailed a link');
    assert.equal((await client.follow(link)).status, 200);
    const record = await recordFor({ user_email: 'dora@example.com', path: '/e2e/link' });
    assert.equal(record.auth_method_used, 'link');
    assert.equal(record.user_id, 'dora@example.com');
  });

  it('records an HTTP Basic user, found by user_id', async () => {
    const response = await request(`${proxyUrl}/e2e/basic`, {
      headers: { host: 'robots.localhost', authorization: `Basic ${Buffer.from(`robot:${PASSWORD}`).toString('base64')}` },
      dispatcher: agent,
    });
    assert.equal(response.statusCode, 200);
    await response.body.text();
    const record = await recordFor({ user_id: 'robot', path: '/e2e/basic' });
    assert.equal(record.auth_method_used, 'basic');
    assert.equal(record.service_id, 'robots');
  });

  it('records upstream failures with their reasons', async () => {
    assert.equal((await visitor().send(at('dead', '/e2e/dead'))).status, 502);
    assert.match((await recordFor({ path: '/e2e/dead' })).reason ?? '', /refused/);
    assert.equal((await visitor().send(at('slow', '/slow?ms=3000'))).status, 504);
    assert.match((await recordFor({ path: '/slow', status_code: '504' })).reason ?? '', /timeout|timed out/);
  });

  it('records requests for unknown hosts', async () => {
    assert.equal((await visitor().send(at('nowhere', '/e2e/unknown'))).status, 404);
    const record = await recordFor({ path: '/e2e/unknown' });
    assert.equal(record.status_code, 404);
    assert.ok(!record.service_id, 'no service matched');
  });
});
