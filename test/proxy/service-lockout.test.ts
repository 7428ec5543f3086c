// Brute force across addresses: 100 source IPs (trusted X-Forwarded-For from 127.0.0.1, as behind
// the demo's front proxy) guess a PIN at once. The service's budget locks its PIN logins — for the
// right PIN too — while a session obtained before keeps working; every 429 says in Retry-After how
// long the lock lasts, and the lock lifts after the cool-down. Time moves on a fake clock.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { cheapSecretHash, fakeClock, removeDir, serviceConfig, startTestProxy, startUpstream, tempDir, waitForRecord, type TestProxy, type Upstream } from './helpers.ts';
import { runProxyMain } from './process.ts';

const PIN = '4071';
const BUDGET = 30;
const LOCKOUT_SECONDS = 600;
const IP_WINDOW_SECONDS = 60;

describe('per-service budget of failed PIN logins', () => {
  let upstream: Upstream;
  let proxy: TestProxy;
  const time = fakeClock();

  before(async () => {
    upstream = await startUpstream();
    proxy = await startTestProxy(
      {
        trusted_proxies: ['127.0.0.1'],
        login_rate_limit: {
          max_failed_attempts: 3,
          window_seconds: IP_WINDOW_SECONDS,
          service_max_failed_attempts: BUDGET,
          service_window_seconds: 3_600,
          service_lockout_seconds: LOCKOUT_SECONDS,
        },
        services: [serviceConfig('door', upstream.url, { method: 'pin', hash: cheapSecretHash(PIN) })],
      },
      undefined,
      time.clock,
    );
  });

  after(async () => {
    await proxy.stop();
    await upstream.close();
    await removeDir(proxy.logDir);
  });

  const send = async (clientIp: string, id: string, options: { pin?: string; cookie?: string }) => {
    const response = await request(`${proxy.url}${options.pin === undefined ? '/' : '/.proxy/login'}`, {
      method: options.pin === undefined ? 'GET' : 'POST',
      headers: {
        host: 'door.test',
        'x-forwarded-for': clientIp,
        'x-request-id': id,
        ...(options.cookie ? { cookie: options.cookie } : {}),
        ...(options.pin === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      body: options.pin === undefined ? undefined : new URLSearchParams({ pin: options.pin }).toString(),
    });
    await response.body.text();
    return { status: response.statusCode, headers: response.headers };
  };

  test('100 addresses guessing at once lock the service; sessions stay; Retry-After counts down; the lock lifts', async () => {
    const before = await send('192.0.2.1', 'session-login', { pin: PIN });
    assert.equal(before.status, 303);
    const cookie = String(before.headers['set-cookie']).split(';')[0]!;

    const guesses = await Promise.all(
      Array.from({ length: 100 }, (_, index) => send(`203.0.113.${index + 1}`, `guess-${index}`, { pin: String(1000 + index) })),
    );
    const wrong = guesses.filter((answer) => answer.status === 401);
    const refused = guesses.filter((answer) => answer.status === 429);
    assert.equal(wrong.length, BUDGET, 'exactly the budget of PINs was checked, though all 100 arrived together');
    assert.equal(refused.length, 100 - BUDGET);
    for (const answer of refused) assert.equal(answer.headers['retry-after'], String(LOCKOUT_SECONDS));
    const refusedIndex = guesses.findIndex((answer) => answer.status === 429);
    const refusedLine = await waitForRecord(proxy.logDir, `guess-${refusedIndex}`);
    assert.equal(refusedLine.reason, 'service locked: too many failed attempts');
    assert.equal(refusedLine.status, 429);

    const rightPin = await send('198.51.100.7', 'right-pin-locked', { pin: PIN });
    assert.equal(rightPin.status, 429, 'while locked, even the right PIN is refused');
    assert.equal(rightPin.headers['retry-after'], String(LOCKOUT_SECONDS));

    const session = await send('203.0.113.1', 'session-during-lock', { cookie });
    assert.equal(session.status, 200, 'a valid session is unaffected');
    assert.equal((await waitForRecord(proxy.logDir, 'session-during-lock')).reason, undefined);

    time.advance(250_500);
    const later = await send('198.51.100.8', 'right-pin-later', { pin: PIN });
    assert.equal(later.status, 429);
    assert.equal(later.headers['retry-after'], String(LOCKOUT_SECONDS - 250), 'whole seconds until the lock lifts, rounded up');

    time.advance((LOCKOUT_SECONDS - 250) * 1000);
    const unlocked = await send('198.51.100.9', 'right-pin-unlocked', { pin: PIN });
    assert.equal(unlocked.status, 303, 'after the cool-down the right PIN logs in again');
  });

  test('the per-IP limit’s 429 carries Retry-After too', async () => {
    for (let attempt = 0; attempt < 3; attempt++) assert.equal((await send('198.51.100.50', `ip-${attempt}`, { pin: `99${attempt}` })).status, 401);
    time.advance(20_000);
    const limited = await send('198.51.100.50', 'ip-limited', { pin: PIN });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], String(IP_WINDOW_SECONDS - 20));
    assert.equal((await waitForRecord(proxy.logDir, 'ip-limited')).reason, 'too many failed attempts');
    time.advance((IP_WINDOW_SECONDS - 20) * 1000);
    assert.equal((await send('198.51.100.50', 'ip-unlimited', { pin: PIN })).status, 303);
  });
});

test('a bad service budget exits 1 naming the key', async () => {
  const dir = await tempDir('lockout-config');
  const file = join(dir, 'proxy.json');
  await writeFile(
    file,
    JSON.stringify({
      proxy_id: 'lockout',
      listen: { port: 0 },
      access_log: { dir: 'logs' },
      login_rate_limit: { service_max_failed_attempts: 0, service_window_seconds: 'hour', service_lockout_seconds: 1.5 },
      services: [{ id: 'app', hosts: ['app.test'], upstream: 'http://127.0.0.1:1', auth: { method: 'none' } }],
    }),
  );
  const { code, stderr } = await runProxyMain(file).done;
  assert.equal(code, 1);
  assert.match(stderr, /^ {2}login_rate_limit\.service_max_failed_attempts: (?!unknown key)/m);
  assert.match(stderr, /^ {2}login_rate_limit\.service_window_seconds: (?!unknown key)/m);
  assert.match(stderr, /^ {2}login_rate_limit\.service_lockout_seconds: (?!unknown key)/m);
  await removeDir(dir);
});
