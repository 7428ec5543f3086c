// The page's routes on the real API app: served without a token, with a strict CSP, content-hashed
// assets cached for good; the OpenAPI document too; the data under /api still needs the token.

import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { EventStore } from '../../api/event-store.ts';
import { createStorage } from '../../common/storage/create.ts';
import { startApi } from './harness.ts';

describe('web page routes', () => {
  let url: string;
  let server: Server;
  const storage = createStorage({ url: 'http://127.0.0.1:9', request_timeout_ms: 500 });

  before(async () => {
    ({ url, server } = await startApi(new EventStore(storage, 'unused', 500), 'a-token-that-is-long-enough-0001'));
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await storage.close();
  });

  it('serves the page at / and /events without a token, with a strict CSP', async () => {
    for (const path of ['/', '/events']) {
      const response = await fetch(`${url}${path}`);
      assert.equal(response.status, 200, path);
      assert.match(response.headers.get('content-type')!, /^text\/html/);
      const csp = response.headers.get('content-security-policy')!;
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      const html = await response.text();
      assert.doesNotMatch(html, /<script>/, 'no inline script');
      assert.match(html, /<div id="app">/);
    }
  });

  it('serves the bundled script and style sheet under content-hashed names', async () => {
    const html = await (await fetch(`${url}/events`)).text();
    const assets = [...html.matchAll(/(?:src|href)="(\/web\/app\.[0-9a-f]{12}\.(?:js|css))"/g)].map((m) => m[1]!);
    assert.equal(assets.length, 2);
    for (const asset of assets) {
      const response = await fetch(`${url}${asset}`);
      assert.equal(response.status, 200, asset);
      assert.match(response.headers.get('cache-control')!, /immutable/);
      assert.ok((await response.arrayBuffer()).byteLength > 1000);
    }
    assert.equal((await fetch(`${url}/web/app.000000000000.js`)).status, 404);
  });

  it('serves the OpenAPI document without a token, and still requires the token for the data', async () => {
    const openApi = await fetch(`${url}/api/openapi.json`);
    assert.equal(openApi.status, 200);
    assert.equal(((await openApi.json()) as { openapi: string }).openapi, '3.1.0');
    assert.equal((await fetch(`${url}/api/events/proxy`)).status, 401);
  });
});
