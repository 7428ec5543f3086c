// The proxy as a process: a bad configuration exits 1 naming the key; SIGTERM lets in-flight
// requests finish, flushes every line and exits 0; the hash CLI prints a hash that verifies.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Pool, request } from 'undici';
import { parseSecretHash, verifySecret } from '../../proxy/secret-hash.ts';
import { within } from '../helpers/wait.ts';
import { readRecords, removeDir, startUpstream, tempDir } from './helpers.ts';
import { runProxyMain, spawnProxy } from './process.ts';

const base = (dir: string, upstream: string) => ({
  proxy_id: 'process',
  listen: { host: '127.0.0.1', port: 0 },
  access_log: { dir: `${dir}/logs` },
  services: [{ id: 'app', hosts: ['app.test'], upstream, auth: { method: 'none' } }],
});

test('a bad configuration exits 1 naming every bad key and its problem', async () => {
  const dir = await tempDir('badconfig');
  const config = {
    ...base(dir, 'http://127.0.0.1:1'),
    listen: { host: 'localhost', port: 99999 },
    trusted_proxies: ['10.0.0.0/33'],
    surprise: true,
    watch_config: 'yes',
    services: [
      { id: 'app', hosts: ['app.test'], upstream: 'http://127.0.0.1:1', auth: { method: 'password', hash: 'plaintext' } },
      { id: 'ftp', hosts: ['ftp.test'], upstream: 'ftp://x', auth: { method: 'none' } },
      { id: 'api', hosts: ['app.test'], paths: ['/api', 'api'], strip_prefix: 'yes', upstream: 'http://127.0.0.1:1', auth: { method: 'none' } },
    ],
  };
  await writeFile(join(dir, 'bad.json'), JSON.stringify(config));
  const { code, stderr } = await within('the proxy to exit on a bad configuration', runProxyMain(join(dir, 'bad.json')).done);
  assert.equal(code, 1);
  assert.ok(stderr.startsWith(`proxy: invalid configuration (${join(dir, 'bad.json')}):\n`), stderr);
  assert.match(stderr, /^ {2}services\[0\]\.auth\.hash: not a scrypt hash/m);
  assert.match(stderr, /^ {2}trusted_proxies\[0\]: not an IP address or CIDR/m);
  assert.match(stderr, /^ {2}services\[1\]\.upstream: must be an http/m);
  assert.match(stderr, /^ {2}listen\.host: must be an IP address$/m);
  assert.match(stderr, /^ {2}listen\.port: /m);
  assert.match(stderr, /^ {2}surprise: unknown key$/m);
  assert.match(stderr, /^ {2}watch_config: /m);
  assert.match(stderr, /^ {2}services\[2\]\.paths\[1\]: must start with \//m);
  assert.match(stderr, /^ {2}services\[2\]\.strip_prefix: /m);
  await writeFile(join(dir, 'broken.json'), '{ "proxy_id": ');
  const broken = await within('the proxy to exit on broken JSON', runProxyMain(join(dir, 'broken.json')).done);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /^proxy: configuration file .*broken\.json is not valid JSON/);
  await removeDir(dir);
});

test('SIGTERM: in-flight requests finish, every line is flushed, exit 0', async () => {
  const slowArrived = Promise.withResolvers<void>();
  const upstream = await startUpstream((seen, res) => {
    if (seen.url === '/slow') {
      slowArrived.resolve();
      setTimeout(() => res.end('slow done'), 700);
    } else res.end('ok');
  });
  const dir = await tempDir('sigterm');
  const proxy = await spawnProxy(dir, base(dir, upstream.url));
  const pool = new Pool(proxy.url, { connections: 4 });
  try {
    for (let index = 0; index < 500; index++) {
      const response = await pool.request({ path: `/fast/${index}`, method: 'GET', headers: { host: 'app.test' } });
      await response.body.text();
    }
    const slow = request(`${proxy.url}/slow`, { headers: { host: 'app.test' } });
    await within('the slow request to reach the upstream', slowArrived.promise);
    const exit = proxy.terminate();
    const response = await slow;
    assert.equal(response.statusCode, 200);
    assert.equal(await response.body.text(), 'slow done');
    assert.equal(await within('the proxy to exit after SIGTERM', exit), 0);
    await assert.rejects(request(`${proxy.url}/after`, { headers: { host: 'app.test' } }), 'no longer accepting');
  } finally {
    proxy.child.kill();
    await pool.destroy();
    await upstream.close();
  }
  const records = await readRecords(`${dir}/logs`);
  assert.equal(records.length, 501);
  assert.equal(records.filter((record) => record.path === '/slow' && record.status === 200).length, 1);
  assert.match(proxy.stderr(), /"msg":"stopped"/);
  await removeDir(dir);
});

test('SIGTERM: a request still running at the shutdown timeout is cut and logged 503 proxy shutting down', async () => {
  const stuckArrived = Promise.withResolvers<void>();
  const upstream = await startUpstream(() => stuckArrived.resolve());
  const dir = await tempDir('sigterm-cut');
  const proxy = await spawnProxy(dir, { ...base(dir, upstream.url), limits: { shutdown_timeout_ms: 300 } });
  try {
    const stuck = request(`${proxy.url}/stuck`, { headers: { host: 'app.test' } }).then(
      () => 'answered',
      () => 'cut',
    );
    await within('the stuck request to reach the upstream', stuckArrived.promise);
    assert.equal(await within('the proxy to exit after SIGTERM', proxy.terminate()), 0);
    assert.equal(await within('the stuck request to end', stuck), 'cut');
  } finally {
    proxy.child.kill();
    await upstream.close();
  }
  const [record] = await readRecords(`${dir}/logs`);
  assert.equal(record!.status, 503);
  assert.equal(record!.reason, 'proxy shutting down');
  await removeDir(dir);
});

test('npm run hash-secret: prints a scrypt hash of the piped secret', async () => {
  const child = spawn(process.execPath, [new URL('../../proxy/hash-secret.ts', import.meta.url).pathname], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stdin.end('s3cret-PIN\n');
  const code = await within('hash-secret to exit', new Promise((resolve) => child.once('exit', resolve)));
  assert.equal(code, 0);
  const hash = parseSecretHash(stdout.trim());
  assert.equal(await verifySecret('s3cret-PIN', hash), true);
  assert.equal(await verifySecret('s3cret-PIN ', hash), false);
});
