// The cookie signer on its own: a signed value reads back; a changed payload or MAC, another key,
// a malformed value or a passed expiry does not. And the Cookie-header helpers around it.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cookieValue, CookieSigner, loadSigningKey, stripOwnCookies, SESSION_COOKIE, SSO_STATE_COOKIE } from '../../proxy/auth/session-cookie.ts';
import { removeDir, tempDir } from './helpers.ts';

const NOW = 1_767_225_600; // 2026-01-01T00:00:00Z, seconds
const KEY = Buffer.alloc(32, 7);
const session = { service: 'wiki', method: 'password', user: 'wiki-team', exp: NOW + 60 };

describe('cookie signer', () => {
  const signer = new CookieSigner(KEY);

  it('reads back what it signed, until it expires', () => {
    const cookie = signer.sign(session);
    assert.deepEqual(signer.verify(cookie, NOW), { status: 'valid', value: session });
    assert.deepEqual(signer.verify(cookie, NOW + 59), { status: 'valid', value: session });
    assert.deepEqual(signer.verify(cookie, NOW + 60), { status: 'expired', value: session }, 'expired at exp itself, and still says what it held');
    assert.deepEqual(signer.verify(cookie, NOW + 3_600), { status: 'expired', value: session });
  });

  it('refuses a changed payload, a changed MAC and a truncated MAC', () => {
    const [payload, mac] = signer.sign(session).split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ ...session, user: 'admin' })).toString('base64url');
    assert.deepEqual(signer.verify(`${forged}.${mac}`, NOW), { status: 'invalid' });
    const flipped = Buffer.from(mac, 'base64url');
    flipped[0]! ^= 1;
    assert.deepEqual(signer.verify(`${payload}.${flipped.toString('base64url')}`, NOW), { status: 'invalid' });
    assert.deepEqual(signer.verify(`${payload}.${mac.slice(0, -4)}`, NOW), { status: 'invalid' });
  });

  it('refuses a value signed with another key', () => {
    const other = new CookieSigner(Buffer.alloc(32, 8));
    assert.deepEqual(signer.verify(other.sign(session), NOW), { status: 'invalid' });
  });

  it('refuses malformed values, and a signed payload without a numeric expiry', () => {
    assert.deepEqual(signer.verify(undefined, NOW), { status: 'missing' });
    assert.deepEqual(signer.verify('', NOW), { status: 'missing' });
    assert.deepEqual(signer.verify('no-dot-here', NOW), { status: 'invalid' });
    assert.deepEqual(signer.verify('.', NOW), { status: 'invalid' });
    const noExpiry = signer.sign({ exp: 'later' } as unknown as { exp: number });
    assert.deepEqual(signer.verify(noExpiry, NOW), { status: 'invalid' });
  });
});

describe('signing key', () => {
  it('refuses a key file shorter than 32 bytes, naming the file', async () => {
    const dir = await tempDir('signing-key');
    try {
      const short = join(dir, 'short.key');
      await writeFile(short, Buffer.alloc(31, 1));
      assert.throws(() => loadSigningKey(short), (error: Error) => error.message.includes(short) && /31 bytes/.test(error.message));
      const good = join(dir, 'good.key');
      await writeFile(good, KEY);
      assert.deepEqual(loadSigningKey(good), KEY);
      assert.equal(loadSigningKey(undefined).length, 32, 'a random key without a file');
    } finally {
      await removeDir(dir);
    }
  });
});

describe('cookie header helpers', () => {
  it('finds a cookie by exact name, its value may hold "="', () => {
    const header = `theme=dark; x${SESSION_COOKIE}=no; ${SESSION_COOKIE}=abc=def`;
    assert.equal(cookieValue(header, SESSION_COOKIE), 'abc=def');
    assert.equal(cookieValue(header, 'missing'), undefined);
    assert.equal(cookieValue(undefined, SESSION_COOKIE), undefined);
  });

  it("strips only the proxy's own cookies", () => {
    assert.equal(stripOwnCookies(`theme=dark; ${SESSION_COOKIE}=a; ${SSO_STATE_COOKIE}=b; proxy_other=c`), 'theme=dark; proxy_other=c');
    assert.equal(stripOwnCookies(`${SESSION_COOKIE}=a`), undefined);
    assert.equal(stripOwnCookies('theme=dark'), 'theme=dark');
  });
});
