// The proxy's configuration file as loaded by the common loader: relative paths from the file's
// folder, problems as CONFIG_INVALID naming each key in the `services[1].auth.hash` style.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../proxy/config.ts';
import { cheapSecretHash, removeDir, tempDir } from './helpers.ts';

const minimal = {
  proxy_id: 'config-test',
  listen: { port: 0 },
  access_log: { dir: 'logs' },
  services: [{ id: 'app', hosts: ['app.test'], upstream: 'http://127.0.0.1:1', auth: { method: 'none' } }],
};

test('relative paths are taken from the configuration file’s folder', async () => {
  const dir = await tempDir('config-paths');
  const file = join(dir, 'proxy.json');
  await writeFile(file, JSON.stringify({ ...minimal, sessions: { secret_file: '../session.key' }, tls: { cert_file: 'tls/cert.pem', key_file: '/etc/key.pem' } }));
  const config = loadConfig(file);
  assert.equal(config.access_log.dir, join(dir, 'logs'));
  assert.equal(config.sessions.secret_file, join(dir, '..', 'session.key'));
  assert.deepEqual(config.tls, { cert_file: join(dir, 'tls', 'cert.pem'), key_file: '/etc/key.pem' });
  await removeDir(dir);
});

test('a bad value is CONFIG_INVALID naming its key; an IPv6 zone is no trusted proxy', async () => {
  const dir = await tempDir('config-bad');
  const file = join(dir, 'proxy.json');
  await writeFile(file, JSON.stringify({ ...minimal, trusted_proxies: ['10.0.0.0/8', 'fe80::1%eth0'], services: [minimal.services[0], { ...minimal.services[0], id: 'pw', hosts: ['pw.test'], auth: { method: 'password', hash: 'x' } }] }));
  assert.throws(() => loadConfig(file), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.equal(error.message.split('\n')[0], `invalid configuration (${file}):`);
    assert.match(error.message, /^ {2}trusted_proxies\[1\]: not an IP address or CIDR/m);
    assert.match(error.message, /^ {2}services\[1\]\.auth\.hash: not a scrypt hash/m);
    assert.doesNotMatch(error.message, /trusted_proxies\[0\]/);
    return true;
  });
  assert.throws(() => loadConfig(join(dir, 'absent.json')), { code: 'CONFIG_INVALID', message: /^cannot read configuration file .*absent\.json/ });
  await removeDir(dir);
});

test('the access log’s unwritable policy and buffer bound are checked by key', async () => {
  const dir = await tempDir('config-unwritable');
  const file = join(dir, 'proxy.json');
  await writeFile(file, JSON.stringify({ ...minimal, access_log: { dir: 'logs', when_unwritable: 'halt', buffer_max_bytes: 1_000 } }));
  assert.throws(() => loadConfig(file), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.match(error.message, /^ {2}access_log\.when_unwritable: /m);
    assert.match(error.message, /^ {2}access_log\.buffer_max_bytes: at least 65536/m);
    return true;
  });
  await writeFile(file, JSON.stringify(minimal));
  const defaults = loadConfig(file).access_log;
  assert.equal(defaults.when_unwritable, 'serve');
  assert.equal(defaults.buffer_max_bytes, 64 * 1024 * 1024);
  await removeDir(dir);
});

test('path routes: prefixes are checked, and a host + prefix or a host’s login claimed twice is CONFIG_INVALID naming the key', async () => {
  const dir = await tempDir('config-paths');
  const file = join(dir, 'proxy.json');
  const route = (id: string, extra: Record<string, unknown>) => ({ id, hosts: ['app.test'], upstream: 'http://127.0.0.1:1', auth: { method: 'none' }, ...extra });
  const password = { method: 'password', hash: cheapSecretHash('x') };
  await writeFile(file, JSON.stringify({
    ...minimal,
    services: [
      route('app', {}),
      route('api', { paths: ['/api/', '/a/../b', '/.proxy', 'relative'] }),
      route('api-again', { paths: ['/docs', '/api'] }),
      route('same-host', {}),
      route('login-a', { paths: ['/x'], auth: password }),
      route('login-b', { paths: ['/y'], auth: password }),
    ],
  }));
  assert.throws(() => loadConfig(file), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.match(error.message, /^ {2}services\[1\]\.paths\[1\]: must be a normalised path/m);
    assert.match(error.message, /^ {2}services\[1\]\.paths\[2\]: \/\.proxy\/ is the proxy's own/m);
    assert.match(error.message, /^ {2}services\[1\]\.paths\[3\]: must start with \//m);
    assert.doesNotMatch(error.message, /services\[1\]\.paths\[0\]/);
    return true;
  });
  await writeFile(file, JSON.stringify({ ...minimal, services: [route('app', {}), route('api', { paths: ['/api/'] }), route('api-again', { paths: ['/docs', '/api'] }), route('same-host', {}), route('login-a', { paths: ['/x'], auth: password }), route('login-b', { paths: ['/y'], auth: password })] }));
  assert.throws(() => loadConfig(file), (error: Error & { code?: string }) => {
    assert.match(error.message, /^ {2}services\[2\]\.paths\[1\]: host "app\.test" path "\/api" is already served by "api"$/m);
    assert.match(error.message, /^ {2}services\[3\]\.hosts\[0\]: host "app\.test" is already served by "app"$/m);
    assert.match(error.message, /^ {2}services\[5\]\.auth: host "app\.test" already signs in through "login-a"/m);
    assert.doesNotMatch(error.message, /services\[2\]\.paths\[0\]|services\[4\]/);
    return true;
  });
  await writeFile(file, JSON.stringify({ ...minimal, services: [route('app', {}), route('api', { paths: ['/api/'], strip_prefix: true })] }));
  const [app, api] = loadConfig(file).services;
  assert.deepEqual([app!.paths, app!.strip_prefix], [['/'], false]);
  assert.deepEqual([api!.paths, api!.strip_prefix], [['/api'], true]);
  await removeDir(dir);
});
