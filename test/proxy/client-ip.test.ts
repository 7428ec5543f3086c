// The client-IP resolver on its own: which address is the client for a given socket peer,
// X-Forwarded-For and set of trusted proxies, and how addresses are spelled.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientIpResolver, normalizeIp, peerAddress } from '../../proxy/client-ip.ts';

describe('client IP resolver', () => {
  const resolver = new ClientIpResolver(['127.0.0.1', '10.0.0.0/8', '::1', '2001:db8::/32']);

  it('ignores X-Forwarded-For from an untrusted peer, and from anyone when nothing is trusted', () => {
    assert.equal(resolver.resolve('198.51.100.20', '203.0.113.9'), '198.51.100.20');
    assert.equal(new ClientIpResolver([]).resolve('127.0.0.1', '203.0.113.9'), '127.0.0.1');
    assert.equal(resolver.resolve('127.0.0.1', undefined), '127.0.0.1');
  });

  it('takes the right-most untrusted address behind trusted peers', () => {
    assert.equal(resolver.resolve('127.0.0.1', '198.51.100.7, 203.0.113.9, 10.1.2.3'), '203.0.113.9');
    assert.equal(resolver.resolve('10.9.9.9', '203.0.113.9'), '203.0.113.9');
    assert.equal(resolver.resolve('127.0.0.1', ['198.51.100.7', '203.0.113.9, 10.1.2.3']), '203.0.113.9', 'repeated headers are one list');
  });

  it('answers the left-most hop when every forwarded address is trusted', () => {
    assert.equal(resolver.resolve('127.0.0.1', '10.0.0.5, 10.0.0.6'), '10.0.0.5');
  });

  it('stops at a malformed element: nothing left of it can be trusted', () => {
    assert.equal(resolver.resolve('127.0.0.1', '198.51.100.7, not-an-ip, 10.1.2.3'), '10.1.2.3');
    assert.equal(resolver.resolve('127.0.0.1', '198.51.100.7, 999.1.1.1'), '127.0.0.1');
    assert.equal(resolver.resolve('127.0.0.1', ''), '127.0.0.1');
    assert.equal(resolver.resolve('127.0.0.1', '[2001:db8::1'), '127.0.0.1', 'an unclosed bracket');
  });

  it('reads ports, brackets and quotes, and resolves IPv6 chains', () => {
    assert.equal(resolver.resolve('127.0.0.1', '203.0.113.9:4711'), '203.0.113.9');
    assert.equal(resolver.resolve('::1', '198.51.100.7, "[2600:1F18::9]:8080", 2001:DB8:0:0::7'), '2600:1f18::9');
    assert.equal(resolver.resolve('::1', '[2001:db8::1]:443'), '2001:db8::1');
  });

  it('trusts addresses by family and subnet, nothing more', () => {
    assert.equal(resolver.isTrusted('10.255.255.255'), true);
    assert.equal(resolver.isTrusted('11.0.0.1'), false);
    assert.equal(resolver.isTrusted('127.0.0.2'), false);
    assert.equal(resolver.isTrusted('2001:db8:ffff::1'), true);
    assert.equal(resolver.isTrusted('2001:db9::1'), false);
    assert.equal(new ClientIpResolver([]).isTrusted('127.0.0.1'), false);
  });
});

describe('address spelling', () => {
  it('gives one canonical form per address', () => {
    assert.equal(normalizeIp('203.0.113.9'), '203.0.113.9');
    assert.equal(normalizeIp('2001:0DB8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
    assert.equal(normalizeIp('::FFFF:203.0.113.10'), '203.0.113.10');
    assert.equal(normalizeIp('::ffff:cb00:710a'), '203.0.113.10', 'a mapped address written in hex');
    assert.equal(normalizeIp('fe80::1%eth0'), 'fe80::1', 'zone id dropped');
  });

  it('refuses what is not an address', () => {
    for (const text of ['', 'localhost', '999.1.1.1', '203.0.113.9:80', '1.2.3', '::g']) assert.equal(normalizeIp(text), undefined, text);
  });

  it('normalises the socket peer', () => {
    assert.equal(peerAddress('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(peerAddress('198.51.100.7'), '198.51.100.7');
    assert.equal(peerAddress('2001:DB8::1'), '2001:db8::1');
    assert.equal(peerAddress(undefined), '0.0.0.0');
  });
});
