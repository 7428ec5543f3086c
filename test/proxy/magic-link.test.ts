// Magic links through the real proxy and a real SMTP server (smtp-server) started here, which
// requires the login whose password the proxy reads from a file: the same answer for allowed and
// other addresses, one mail only for the allowed, the link bound to the asking browser, single use,
// expiry, the failed-attempt limit, a Host that would point the link elsewhere, and the record
// each step leaves (the address only once verified).

import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { request } from 'undici';
import { LINK_REASONS } from '../../proxy/auth/link.ts';
import { TOO_MANY_ATTEMPTS_REASON } from '../../proxy/auth/rate-limit.ts';
import { LINK_NONCE_COOKIE } from '../../proxy/auth/session-cookie.ts';
import { cheapSecretHash, fakeClock, logFiles, removeDir, serviceConfig, startTestProxy, startUpstream, tempDir, until, waitForRecord, type TestProxy, type Upstream } from './helpers.ts';

const SMTP_USER = 'proxy-mailer';
const SMTP_PASSWORD = 'smtp-password-from-a-file';

interface Mail {
  to: string[];
  raw: string;
}

/** The link in a mail the proxy sent (its text part is base64). */
function linkIn(mail: Mail): URL {
  const [, body] = mail.raw.split('\r\n\r\n', 2) as [string, string];
  const text = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  const match = /https?:\/\/\S+\/\.proxy\/link\?token=[A-Za-z0-9_-]+/.exec(text);
  assert.ok(match, `no link in: ${text}`);
  return new URL(match[0]);
}

describe('magic links by e-mail', () => {
  let upstream: Upstream;
  let proxy: TestProxy;
  let smtp: SMTPServer;
  let dir: string;
  const mails: Mail[] = [];
  const time = fakeClock();

  before(async () => {
    upstream = await startUpstream();
    dir = await tempDir('link');
    smtp = new SMTPServer({
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      onAuth(auth, _session, callback) {
        if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) callback(null, { user: auth.username });
        else callback(new Error('bad login'));
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          mails.push({ to: session.envelope.rcptTo.map((rcpt) => rcpt.address), raw: Buffer.concat(chunks).toString('utf8') });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const smtpPort = (smtp.server.address() as AddressInfo).port;
    await writeFile(join(dir, 'smtp-password'), `${SMTP_PASSWORD}\n`);
    const link = { method: 'link', allowed_emails: ['Alice@Example.com'], allowed_domains: ['corp.test'] };
    proxy = await startTestProxy(
      {
        trusted_proxies: ['127.0.0.1'],
        login_rate_limit: { max_failed_attempts: 3, window_seconds: 60 },
        smtp: { host: '127.0.0.1', port: smtpPort, tls: 'none', username: SMTP_USER, password_file: join(dir, 'smtp-password'), from: 'proxy@example.test' },
        services: [serviceConfig('mail', upstream.url, link), serviceConfig('both', upstream.url, [{ method: 'password', hash: cheapSecretHash('pw') }, link])],
      },
      undefined,
      time.clock,
    );
  });

  after(async () => {
    await proxy.stop();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    await upstream.close();
    await removeDir(proxy.logDir);
    await removeDir(dir);
  });

  const send = (host: string, path: string, clientIp: string, id: string, options: { form?: Record<string, string>; cookie?: string } = {}) =>
    request(`${proxy.url}${path}`, {
      method: options.form ? 'POST' : 'GET',
      headers: {
        host,
        'x-forwarded-for': clientIp,
        'x-request-id': id,
        ...(options.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...(options.cookie ? { cookie: options.cookie } : {}),
      },
      body: options.form ? new URLSearchParams(options.form).toString() : undefined,
    });
  const record = (id: string) => waitForRecord(proxy.logDir, id);
  const nonceOf = (setCookie: string | string[] | undefined) => String(setCookie).split(';')[0]!;
  /** Asks for a link for `email` and returns the nonce cookie the browser got, with the answer's body. */
  const ask = async (host: string, email: string, clientIp: string, id: string, cookie?: string, path = '/.proxy/login') => {
    const response = await send(host, path, clientIp, id, { form: { email, return_to: '/inbox?folder=1' }, cookie });
    return { status: response.statusCode, cookie: nonceOf(response.headers['set-cookie']), setCookie: String(response.headers['set-cookie']), body: await response.body.text() };
  };
  const mailTo = async (address: string, from: number): Promise<Mail> => {
    await until(() => mails.slice(from).some((mail) => mail.to.includes(address)), `a mail to ${address}`, 10_000);
    return mails.slice(from).find((mail) => mail.to.includes(address))!;
  };

  test('no session: the link form (401), recorded as link / missing session', async () => {
    const response = await send('mail.test', '/inbox', '192.0.2.1', 'link-page');
    assert.equal(response.statusCode, 401);
    const page = await response.body.text();
    assert.match(page, /<form method="post" action="\/\.proxy\/login">/);
    assert.match(page, /name="email" type="email"/);
    const line = await record('link-page');
    assert.equal(line.auth_method, 'link');
    assert.equal(line.reason, 'missing session');
  });

  test('the same answer for an allowed and another address; one mail, to the allowed; no address in the log', async () => {
    const before = mails.length;
    const other = await ask('mail.test', 'mallory@elsewhere.test', '192.0.2.2', 'ask-other');
    const allowed = await ask('mail.test', ' ALICE@example.com ', '192.0.2.3', 'ask-allowed');
    assert.equal(other.status, 200);
    assert.equal(allowed.status, 200);
    assert.equal(other.body, allowed.body);
    assert.equal(other.setCookie.replace(/=[^;]*/, '='), allowed.setCookie.replace(/=[^;]*/, '='));
    assert.match(allowed.setCookie, new RegExp(`^${LINK_NONCE_COOKIE}=[A-Za-z0-9_-]{43}; Path=/\\.proxy/link; Max-Age=600; HttpOnly; SameSite=Lax$`));
    const mail = await mailTo('alice@example.com', before);
    assert.match(mail.raw, /^Subject: Sign-in link for mail$/m);
    assert.equal(linkIn(mail).origin, 'http://mail.test');
    await record('ask-allowed');
    assert.deepEqual(mails.slice(before).flatMap((each) => each.to), ['alice@example.com'], 'nothing for the other address');
    for (const id of ['ask-other', 'ask-allowed']) {
      const line = await record(id);
      assert.equal(line.auth_method, 'link');
      assert.equal(line.user_email, undefined);
      assert.equal(line.user_id, undefined);
    }
    const text = (await Promise.all((await logFiles(proxy.logDir)).map((file) => readFile(file, 'utf8')))).join('');
    assert.equal(/alice@|mallory@/i.test(text), false, 'an address reaches the log only once verified');
  });

  test('the link works once, only in the browser that asked; the session carries the address', async () => {
    const before = mails.length;
    const asked = await ask('mail.test', 'alice@example.com', '192.0.2.4', 'flow-ask');
    const link = linkIn(await mailTo('alice@example.com', before));
    const path = `${link.pathname}${link.search}`;

    const elsewhere = await send('mail.test', path, '192.0.2.5', 'flow-other-browser', { cookie: `${LINK_NONCE_COOKIE}=${'A'.repeat(43)}` });
    assert.equal(elsewhere.statusCode, 403);
    await elsewhere.body.text();
    const elsewhereLine = await record('flow-other-browser');
    assert.equal(elsewhereLine.reason, LINK_REASONS.otherBrowser);
    assert.equal(elsewhereLine.user_email, undefined);
    const bare = await send('mail.test', path, '192.0.2.5', 'flow-no-cookie');
    assert.equal(bare.statusCode, 403);
    await bare.body.text();

    const opened = await send('mail.test', path, '192.0.2.4', 'flow-open', { cookie: asked.cookie });
    assert.equal(opened.statusCode, 303);
    assert.equal(opened.headers.location, '/inbox?folder=1');
    const cookies = [opened.headers['set-cookie']].flat().map(String);
    assert.ok(cookies.some((cookie) => cookie.startsWith(`${LINK_NONCE_COOKIE}=; Path=/.proxy/link; Max-Age=0`)), 'the nonce is cleared');
    const session = cookies.find((cookie) => cookie.startsWith('proxy_session='))!.split(';')[0]!;
    await opened.body.text();
    const openLine = await record('flow-open');
    assert.equal(openLine.auth_method, 'link');
    assert.equal(openLine.user_id, 'alice@example.com');
    assert.equal(openLine.user_email, 'alice@example.com');
    assert.equal(openLine.reason, undefined);

    const allowed = await send('mail.test', '/inbox', '192.0.2.4', 'flow-allowed', { cookie: session });
    assert.equal(allowed.statusCode, 200);
    const echoed = (await allowed.body.json()) as { headers: Record<string, string> };
    assert.equal(echoed.headers.cookie, undefined, "the proxy's cookies stay with it");
    const allowedLine = await record('flow-allowed');
    assert.equal(allowedLine.auth_method, 'link');
    assert.equal(allowedLine.user_email, 'alice@example.com');

    const again = await send('mail.test', path, '192.0.2.4', 'flow-again', { cookie: asked.cookie });
    assert.equal(again.statusCode, 403);
    await again.body.text();
    assert.equal((await record('flow-again')).reason, LINK_REASONS.used);
  });

  test('an allowed domain gets a link; a link opened after its time is expired; a made-up token is invalid', async () => {
    const before = mails.length;
    const asked = await ask('mail.test', 'bob@corp.test', '192.0.2.6', 'expiry-ask');
    const link = linkIn(await mailTo('bob@corp.test', before));
    time.advance(601_000);
    try {
      const late = await send('mail.test', `${link.pathname}${link.search}`, '192.0.2.6', 'expiry-open', { cookie: asked.cookie });
      assert.equal(late.statusCode, 403);
      await late.body.text();
      assert.equal((await record('expiry-open')).reason, LINK_REASONS.expired);
    } finally {
      time.advance(-601_000);
    }
    const madeUp = await send('mail.test', `/.proxy/link?token=${'x'.repeat(43)}`, '192.0.2.7', 'made-up', { cookie: asked.cookie });
    assert.equal(madeUp.statusCode, 403);
    await madeUp.body.text();
    const line = await record('made-up');
    assert.equal(line.reason, LINK_REASONS.invalid);
    assert.equal(line.auth_method, 'link');
  });

  test('asking and failing count against the per-source limit: 429 with Retry-After', async () => {
    const ip = '192.0.2.8';
    await ask('mail.test', 'nobody@elsewhere.test', ip, 'limit-1');
    await (await send('mail.test', '/.proxy/link?token=bad', ip, 'limit-2')).body.text();
    await ask('mail.test', 'nobody@elsewhere.test', ip, 'limit-3');
    const limited = await send('mail.test', '/.proxy/login', ip, 'limit-4', { form: { email: 'alice@example.com' } });
    assert.equal(limited.statusCode, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    await limited.body.text();
    assert.equal((await record('limit-4')).reason, TOO_MANY_ATTEMPTS_REASON);
    const opening = await send('mail.test', '/.proxy/link?token=bad', ip, 'limit-5');
    assert.equal(opening.statusCode, 429);
    await opening.body.text();
  });

  test('a Host that would point the link elsewhere gets no link (400)', async () => {
    const before = mails.length;
    const response = await send('mail.test:80@evil.test', '/.proxy/login', '192.0.2.9', 'evil-host', { form: { email: 'alice@example.com' } });
    assert.equal(response.statusCode, 400);
    await response.body.text();
    assert.equal((await record('evil-host')).reason, LINK_REASONS.badHost);
    await ask('mail.test', 'alice@example.com', '192.0.2.10', 'after-evil');
    await mailTo('alice@example.com', before);
    assert.equal(mails.length - before, 1, 'only the good request sent a mail');
  });

  test('beside a password, from the chooser: /.proxy/login/link, and the session admits as link', async () => {
    const before = mails.length;
    const form = await send('both.test', '/.proxy/login/link?return_to=%2Fdocs', '192.0.2.11', 'both-form');
    assert.equal(form.statusCode, 200);
    assert.match(await form.body.text(), /action="\/\.proxy\/login\/link"/);
    const asked = await ask('both.test', 'carol@corp.test', '192.0.2.11', 'both-ask', undefined, '/.proxy/login/link');
    assert.equal(asked.status, 200);
    const link = linkIn(await mailTo('carol@corp.test', before));
    assert.equal(link.origin, 'http://both.test');
    const opened = await send('both.test', `${link.pathname}${link.search}`, '192.0.2.11', 'both-open', { cookie: asked.cookie });
    assert.equal(opened.statusCode, 303);
    const session = [opened.headers['set-cookie']].flat().map(String).find((cookie) => cookie.startsWith('proxy_session='))!.split(';')[0]!;
    await opened.body.text();
    const allowed = await send('both.test', '/docs', '192.0.2.11', 'both-allowed', { cookie: session });
    assert.equal(allowed.statusCode, 200);
    await allowed.body.text();
    const line = await record('both-allowed');
    assert.equal(line.auth_method, 'link');
    assert.equal(line.user_id, 'carol@corp.test');
  });
});
