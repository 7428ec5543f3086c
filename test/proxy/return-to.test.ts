// Where a login may send the browser back to. The WHATWG URL parser — what browsers apply to a
// Location header — is the oracle: for every `return_to`, the Location the proxy answers, resolved
// against the service's origin, must stay on that origin. Hostile inputs go through the real proxy
// process and a real HTTP client; a property test throws arbitrary strings at the same rule.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { request } from 'undici';
import { safeReturnPath } from '../../proxy/auth/return-to.ts';
import { cheapSecretHash, removeDir, startUpstream, tempDir, type Upstream } from './helpers.ts';
import { spawnProxy, type ProxyProcess } from './process.ts';

const PASSWORD = 'return-to password';
const HOST = 'wiki.test';
const ORIGIN = `http://${HOST}`;

const HOSTILE = [
  '/\t/evil.example',
  '\t//evil.example',
  '/\r/evil.example',
  '/\n/evil.example',
  '/\r\n/evil.example',
  '/\0/evil.example',
  '\0//evil.example',
  ' //evil.example',
  '\\\\evil.example',
  '/\\evil.example',
  '\\/evil.example',
  '/%09/evil.example',
  '%09//evil.example',
  '/%2f%2fevil.example',
  '%2f%2fevil.example',
  '/%5cevil.example',
  '/\u2215\u2215evil.example',
  '\u2215\u2215evil.example',
  '/\uFF0F\uFF0Fevil.example',
  '\uFF0F\uFF0Fevil.example',
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  '\tjavascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  '//evil.example',
  '///evil.example',
  '//evil.example/\t',
  '/\\evil.example',
  'https://a@evil.example',
  `http://${HOST}@evil.example`,
  'https://evil.example/',
  'http://evil.example/',
  'http:evil.example',
  'https:evil.example',
  'http:/\\evil.example',
  'https:\\\\evil.example',
  '/.//evil.example',
  '/..//evil.example',
  '/./\\evil.example',
];

/** Same-origin targets keep their path and query, normalised by the parser. */
const KEPT: Array<[string, string]> = [
  ['/docs/page?x=1', '/docs/page?x=1'],
  ['/a b/c', '/a%20b/c'],
  ['/docs/#frag', '/docs/'],
  ['/a/../b', '/b'],
  [`${ORIGIN}/same-origin?q`, '/same-origin?q'],
  ['http:evil.example', '/evil.example'],
];

function staysOnOrigin(location: string): boolean {
  return new URL(location, ORIGIN).origin === ORIGIN;
}

describe('return_to through the proxy process', () => {
  let upstream: Upstream;
  let dir: string;
  let proxy: ProxyProcess;

  before(async () => {
    upstream = await startUpstream();
    dir = await tempDir('return-to');
    proxy = await spawnProxy(dir, {
      proxy_id: 'return-to',
      listen: { host: '127.0.0.1', port: 0 },
      access_log: { dir: `${dir}/logs` },
      services: [{ id: 'wiki', hosts: [HOST], upstream: upstream.url, auth: { method: 'password', hash: cheapSecretHash(PASSWORD) } }],
    });
  });

  after(async () => {
    assert.equal(await proxy.terminate(), 0);
    await upstream.close();
    await removeDir(dir);
  });

  async function loginLocation(returnTo: string): Promise<string> {
    const response = await request(`${proxy.url}/.proxy/login`, {
      method: 'POST',
      headers: { host: HOST, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ password: PASSWORD, return_to: returnTo }).toString(),
    });
    await response.body.text();
    assert.equal(response.statusCode, 303);
    return String(response.headers.location);
  }

  for (const input of HOSTILE) {
    test(`return_to ${JSON.stringify(input)} stays on the service's origin`, async () => {
      const location = await loginLocation(input);
      assert.ok(staysOnOrigin(location), `Location ${JSON.stringify(location)} leaves ${ORIGIN}`);
      assert.match(location, /^\/(?!\/)[\x21-\x7e]*$/, 'a path on the origin, printable ASCII only');
    });
  }

  for (const [input, expected] of KEPT) {
    test(`return_to ${JSON.stringify(input)} is kept as ${expected}`, async () => {
      assert.equal(await loginLocation(input), expected);
    });
  }

  test('property: any return_to answers a Location on the origin', async () => {
    await fc.assert(
      fc.asyncProperty(returnToCandidates, async (input) => {
        assert.ok(staysOnOrigin(await loginLocation(input)));
      }),
      { numRuns: 150 },
    );
  });
});

/** Arbitrary strings, and strings built from the pieces open redirects are made of. */
const returnToCandidates = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc
    .array(
      fc.constantFrom('/', '\\', '\t', '\r', '\n', '\0', ' ', '%2f', '%09', '%5c', '\u2215', '\uFF0F', '\u3002', '.', '..', '@', ':', '?', '#', 'evil.example', HOST, 'javascript:', 'http:', 'https:'),
      { maxLength: 12 },
    )
    .map((pieces) => pieces.join('')),
);

test('property: safeReturnPath answers a path that stays on the origin and is its own answer', () => {
  fc.assert(
    fc.property(returnToCandidates, (input) => {
      const path = safeReturnPath(input, ORIGIN);
      assert.ok(staysOnOrigin(path), `${JSON.stringify(input)} → ${JSON.stringify(path)}`);
      assert.ok(path.startsWith('/') && !path.startsWith('//'));
      assert.equal(safeReturnPath(path, ORIGIN), path);
    }),
    { numRuns: 20_000 },
  );
});

test('an origin that does not parse (a broken Host header) allows only /', () => {
  assert.equal(safeReturnPath('/docs', 'http://'), '/');
  assert.equal(safeReturnPath('/docs', 'http://a b'), '/');
});
