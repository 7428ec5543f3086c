// An SSO client secret kept in a file of its own (`client_secret_file`): a real login through the
// proxy process and a real issuer with the secret read from that file, and the configurations the
// proxy refuses at start (exit 1 naming the key).

import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig } from '../../proxy/config.ts';
import { freePort, removeDir, startUpstream, tempDir, waitForRecord } from './helpers.ts';
import { startIssuerFront } from './issuer-front.ts';
import { runProxyMain, spawnProxy } from './process.ts';
import { Browser, ssoLogin } from './sso-flow.ts';

const CLIENT_SECRET = 'client-secret-from-a-file-5c1e';

function ssoConfig(dir: string, port: number, issuer: string, upstream: string, secret: Record<string, string>) {
  return {
    proxy_id: 'sso-secret-file',
    listen: { host: '127.0.0.1', port },
    access_log: { dir: join(dir, 'logs') },
    services: [{ id: 'sso', hosts: ['sso.test'], upstream, auth: { method: 'sso', issuer, client_id: 'proxy', ...secret } }],
  };
}

test('SSO login with the client secret read from client_secret_file (relative to the config, trimmed)', async () => {
  const upstream = await startUpstream();
  const dir = await tempDir('sso-secret-file');
  const port = await freePort();
  const site = `http://sso.test:${port}`;
  const issuer = await startIssuerFront([{ sub: 'alice', email: 'alice@example.com' }], [{ client_id: 'proxy', client_secret: CLIENT_SECRET, redirect_uris: [`${site}/.proxy/callback`] }]);
  await mkdir(join(dir, 'secrets'));
  await writeFile(join(dir, 'secrets', 'sso-client'), `${CLIENT_SECRET}\n`, { mode: 0o600 });
  const proxy = await spawnProxy(dir, ssoConfig(dir, port, issuer.url, upstream.url, { client_secret_file: 'secrets/sso-client' }));
  try {
    const browser = new Browser();
    const { callback } = await ssoLogin(browser, proxy.url, site, '/reports', 'alice');
    assert.equal(callback.status, 302, callback.body);
    assert.equal(callback.location, `${site}/reports`);
    assert.equal(issuer.tokenResponses.length, 1, 'the issuer accepted the client secret at its token endpoint');
    const page = await browser.fetch(`${site}/reports`, { connectTo: proxy.url });
    assert.equal(page.status, 200);
    const forwarded = JSON.parse(page.body) as { headers: Record<string, string> };
    const record = await waitForRecord(join(dir, 'logs'), forwarded.headers['x-request-id']!);
    assert.equal(record.user_id, 'alice');
    assert.equal(record.auth_method, 'sso');
  } finally {
    await proxy.terminate();
    await issuer.stop();
    await upstream.close();
    await removeDir(dir);
  }
});

describe('client_secret_file refused at start', () => {
  const upstream = 'http://127.0.0.1:1';
  const issuer = 'http://127.0.0.1:2/';

  /** Runs the proxy process with this secret setting; resolves with its exit code and stderr. */
  async function start(dir: string, secret: Record<string, string>) {
    const file = join(dir, 'proxy.config.json');
    await writeFile(file, JSON.stringify(ssoConfig(dir, 0, issuer, upstream, secret)));
    return await runProxyMain(file).done;
  }

  test('a missing, empty or unreadable file: exit 1 naming services[0].auth.client_secret_file', async () => {
    const dir = await tempDir('sso-secret-bad');
    try {
      await writeFile(join(dir, 'blank'), ' \n\t\n');
      await mkdir(join(dir, 'a-folder'));
      const cases: [string, RegExp][] = [
        ['absent', /cannot read .*absent: ENOENT/],
        ['blank', /.*blank is empty/],
        ['a-folder', /cannot read .*a-folder: EISDIR/],
      ];
      for (const [name, problem] of cases) {
        const { code, stderr } = await start(dir, { client_secret_file: name });
        assert.equal(code, 1, `${name}: ${stderr}`);
        assert.match(stderr, /^proxy: invalid configuration \(.*proxy\.config\.json\):\n/);
        assert.match(stderr, new RegExp(`^ {2}services\\[0\\]\\.auth\\.client_secret_file: ${problem.source}`, 'm'), name);
        assert.ok(stderr.includes(join(dir, name)), `${name}: the path is resolved against the configuration's folder`);
      }
    } finally {
      await removeDir(dir);
    }
  });

  test('both client_secret and client_secret_file, or neither: the key is named', async () => {
    const dir = await tempDir('sso-secret-both');
    try {
      await writeFile(join(dir, 'secret'), CLIENT_SECRET);
      for (const secret of [{ client_secret: CLIENT_SECRET, client_secret_file: 'secret' }, {}] as Record<string, string>[]) {
        const file = join(dir, 'proxy.config.json');
        await writeFile(file, JSON.stringify(ssoConfig(dir, 0, issuer, upstream, secret)));
        assert.throws(() => loadConfig(file), {
          code: 'CONFIG_INVALID',
          message: /^ {2}services\[0\]\.auth\.client_secret: exactly one of client_secret and client_secret_file is required$/m,
        });
      }
      const { code, stderr } = await start(dir, {});
      assert.equal(code, 1);
      assert.match(stderr, /services\[0\]\.auth\.client_secret: exactly one of/);
    } finally {
      await removeDir(dir);
    }
  });
});
