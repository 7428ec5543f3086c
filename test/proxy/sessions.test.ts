// Sessions that end: logout revokes the session id in the signed cookie, a replayed cookie gets the
// login page like a missing one, the revocation survives a restart of the proxy process (state
// file beside the signing key), and revocations are dropped once the sessions they revoke expire.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { request } from 'undici';
import { revocationsFile, RevokedSessions } from '../../proxy/auth/revocations.ts';
import { cheapSecretHash, fakeClock, readRecords, removeDir, startUpstream, tempDir, waitForRecord, type Upstream } from './helpers.ts';
import { spawnProxy, type ProxyProcess } from './process.ts';

const PIN = '7355';
const HOST = 'door.test';
const silent = pino({ level: 'silent' });

describe('logout through the proxy process, across a restart', () => {
  let upstream: Upstream;
  let dir: string;
  let config: Record<string, unknown>;
  let proxy: ProxyProcess;
  const logDir = () => join(dir, 'logs');

  before(async () => {
    upstream = await startUpstream();
    dir = await tempDir('sessions');
    await writeFile(join(dir, 'session.key'), randomBytes(32));
    config = {
      proxy_id: 'sessions',
      listen: { host: '127.0.0.1', port: 0 },
      access_log: { dir: 'logs' },
      // Believed X-Request-Id lets each step find its own line.
      trusted_proxies: ['127.0.0.1'],
      sessions: { secret_file: 'session.key' },
      services: [{ id: 'door', hosts: [HOST], upstream: upstream.url, auth: { method: 'pin', hash: cheapSecretHash(PIN), user_id: 'door-team' } }],
    };
    proxy = await spawnProxy(dir, config);
  });

  after(async () => {
    await proxy.terminate();
    await upstream.close();
    await removeDir(dir);
  });

  const send = async (path: string, id: string, options: { cookie?: string; form?: Record<string, string> } = {}) => {
    const response = await request(`${proxy.url}${path}`, {
      method: options.form ? 'POST' : 'GET',
      headers: {
        host: HOST,
        'x-request-id': id,
        ...(options.cookie ? { cookie: options.cookie } : {}),
        ...(options.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: options.form ? new URLSearchParams(options.form).toString() : undefined,
    });
    return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
  };
  const login = async (id: string) => {
    const answer = await send('/.proxy/login', id, { form: { pin: PIN } });
    assert.equal(answer.status, 303);
    return String(answer.headers['set-cookie']).split(';')[0]!;
  };

  test('logout revokes the session: the replayed cookie gets the login page, and so it stays after a restart', async () => {
    const ended = await login('login-ended');
    const kept = await login('login-kept');
    assert.equal((await send('/', 'before-logout', { cookie: ended })).status, 200);

    const logout = await send('/.proxy/logout', 'logout', { cookie: ended });
    assert.equal(logout.status, 303);
    assert.match(String(logout.headers['set-cookie']), /^proxy_session=; Path=\/; Max-Age=0/);
    const line = await waitForRecord(logDir(), 'logout');
    assert.equal(line.reason, 'logged out');
    assert.equal(line.user_id, 'door-team');
    assert.equal(line.status, 303);

    const replay = await send('/docs', 'replay', { cookie: ended });
    assert.equal(replay.status, 401);
    assert.match(replay.body, /name="pin"/, 'the login page, as for a missing session');
    assert.equal((await waitForRecord(logDir(), 'replay')).reason, 'session revoked');
    assert.equal((await send('/', 'kept-before-restart', { cookie: kept })).status, 200, 'only the logged-out session ends');

    const saved = JSON.parse(await readFile(revocationsFile(join(dir, 'session.key')), 'utf8')) as Record<string, number>;
    assert.equal(Object.keys(saved).length, 1);
    assert.equal((await stat(revocationsFile(join(dir, 'session.key')))).mode & 0o777, 0o600);

    assert.equal(await proxy.terminate(), 0);
    proxy = await spawnProxy(dir, config);
    const afterRestart = await send('/docs', 'replay-after-restart', { cookie: ended });
    assert.equal(afterRestart.status, 401);
    assert.match(afterRestart.body, /name="pin"/);
    assert.equal((await waitForRecord(logDir(), 'replay-after-restart')).reason, 'session revoked');
    assert.equal((await send('/', 'kept-after-restart', { cookie: kept })).status, 200, 'the signing key survived the restart too');
  });

  test('logout without a session is logged too, and revokes nothing', async () => {
    const answer = await send('/.proxy/logout', 'logout-anonymous');
    assert.equal(answer.status, 303);
    const line = await waitForRecord(logDir(), 'logout-anonymous');
    assert.equal(line.reason, 'logged out');
    assert.equal(line.user_id, undefined);
    assert.ok((await readRecords(logDir())).length > 0);
  });
});

describe('the revoked-sessions file', () => {
  let dir: string;
  before(async () => (dir = await tempDir('revocations')));
  after(() => removeDir(dir));

  test('entries are pruned once their sessions expire, on write and on load', async () => {
    const file = join(dir, 'pruned.revoked');
    const time = fakeClock(1_000_000_000_000);
    const now = () => Math.floor(time.clock() / 1000);
    const store = new RevokedSessions(file, time.clock, silent);
    await store.revoke('short', now() + 10);
    await store.revoke('long', now() + 1_000);
    assert.deepEqual(Object.keys(JSON.parse(await readFile(file, 'utf8'))).sort(), ['long', 'short']);

    time.advance(100_000);
    await store.revoke('later', now() + 1_000);
    assert.deepEqual(Object.keys(JSON.parse(await readFile(file, 'utf8'))).sort(), ['later', 'long'], 'the expired entry left the file on write');
    assert.equal(store.has('short'), false);

    time.advance(950_000);
    const reloaded = new RevokedSessions(file, time.clock, silent);
    assert.equal(reloaded.size, 1, 'the entry that expired while stopped is dropped at load');
    assert.ok(reloaded.has('later'));
  });

  test('a file the proxy did not write stops the start, naming the file', async () => {
    const file = join(dir, 'broken.revoked');
    await writeFile(file, '{"sid": "soon"}');
    assert.throws(() => new RevokedSessions(file, Date.now, silent), { code: 'PROXY_REVOCATIONS_INVALID', message: new RegExp(`${file} is not an object`) });
    await writeFile(file, '{"sid": ');
    assert.throws(() => new RevokedSessions(file, Date.now, silent), { code: 'PROXY_REVOCATIONS_INVALID', message: /is not valid JSON/ });
  });
});
