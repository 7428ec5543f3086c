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

test('auth as a list: each method once, none alone, Basic users checked by key; the single object is a list of one', async () => {
  const dir = await tempDir('config-auth-list');
  const file = join(dir, 'proxy.json');
  const service = (id: string, auth: unknown) => ({ ...minimal.services[0], id, hosts: [`${id}.test`], auth });
  const hash = '$scrypt$ln=10,r=8,p=1$MDEyMzQ1Njc4OWFiY2RlZg==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
  await writeFile(
    file,
    JSON.stringify({
      ...minimal,
      services: [
        service('twice', [{ method: 'pin', hash }, { method: 'pin', hash }]),
        service('mixed', [{ method: 'none' }, { method: 'pin', hash }]),
        service('users', [{ method: 'basic', users: [{ username: 'a:b', hash }, { username: 'c', hash: 'plain' }] }]),
        service('dup', { method: 'basic', users: [{ username: 'c', hash }, { username: 'c', hash }] }),
        service('empty', []),
        service('inner', [{ method: 'pin', hash: 'plain' }]),
      ],
    }),
  );
  assert.throws(() => loadConfig(file), (error: Error) => {
    assert.match(error.message, /^ {2}services\[0\]\.auth\[1\]\.method: method "pin" listed twice$/m);
    assert.match(error.message, /^ {2}services\[1\]\.auth\[0\]\.method: "none" cannot be combined with other methods$/m);
    assert.match(error.message, /^ {2}services\[2\]\.auth\[0\]\.users\[0\]\.username: no colon or control characters$/m);
    assert.match(error.message, /^ {2}services\[2\]\.auth\[0\]\.users\[1\]\.hash: not a scrypt hash/m);
    assert.match(error.message, /^ {2}services\[3\]\.auth\.users: duplicate username$/m);
    assert.match(error.message, /^ {2}services\[4\]\.auth: /m);
    assert.match(error.message, /^ {2}services\[5\]\.auth\[0\]\.hash: not a scrypt hash/m);
    return true;
  });
  await writeFile(file, JSON.stringify({ ...minimal, services: [service('one', { method: 'basic', users: [{ username: 'c', hash }] }), service('two', [{ method: 'pin', hash }, { method: 'basic', users: [{ username: 'c', hash }] }])] }));
  const services = loadConfig(file).services;
  assert.deepEqual(services.map((each) => each.auth.map((auth) => auth.method)), [['basic'], ['pin', 'basic']]);
  assert.equal(services[0]!.auth[0]!.method === 'basic' && services[0]!.auth[0]!.forward_authorization, false);
  await removeDir(dir);
});

test('magic links: smtp required, its keys checked, its password read from a file naming smtp.password_file', async () => {
  const dir = await tempDir('config-link');
  const file = join(dir, 'proxy.json');
  const service = (auth: unknown) => ({ ...minimal.services[0], auth });
  await writeFile(file, JSON.stringify({ ...minimal, services: [service({ method: 'link', allowed_emails: ['not-an-address'] }), { ...service({ method: 'link' }), id: 'b', hosts: ['b.test'] }] }));
  assert.throws(() => loadConfig(file), (error: Error) => {
    assert.match(error.message, /^ {2}services\[0\]\.auth\.allowed_emails\[0\]: not an e-mail address$/m);
    assert.match(error.message, /^ {2}services\[1\]\.auth\.allowed_emails: list allowed_emails or allowed_domains \(or both\)$/m);
    return true;
  });
  const link = service({ method: 'link', allowed_domains: ['Example.com'] });
  await writeFile(file, JSON.stringify({ ...minimal, services: [minimal.services[0], { ...link, id: 'b', hosts: ['b.test'] }] }));
  assert.throws(() => loadConfig(file), { message: /^ {2}smtp: required: services\[1\] uses the link method$/m });
  await writeFile(file, JSON.stringify({ ...minimal, smtp: { host: 'mail', port: 70000, tls: 'sometimes', username: 'u', from: 'nobody' }, services: [link] }));
  assert.throws(() => loadConfig(file), (error: Error) => {
    assert.match(error.message, /^ {2}smtp\.port: /m);
    assert.match(error.message, /^ {2}smtp\.tls: /m);
    assert.match(error.message, /^ {2}smtp\.from: not an e-mail address$/m);
    return true;
  });
  await writeFile(file, JSON.stringify({ ...minimal, smtp: { host: 'mail', port: 25, username: 'u', password_file: 'absent', from: 'proxy@example.com' }, services: [link] }));
  assert.throws(() => loadConfig(file), { message: /^ {2}smtp\.password_file: cannot read .*absent/m });
  await writeFile(join(dir, 'smtp-password'), ' secret\n');
  await writeFile(file, JSON.stringify({ ...minimal, smtp: { host: 'mail', port: 25, username: 'u', password_file: 'smtp-password', from: 'proxy@example.com' }, services: [link] }));
  const config = loadConfig(file);
  assert.equal(config.smtp?.password, 'secret');
  assert.equal(config.smtp?.tls, 'starttls');
  assert.deepEqual(config.services[0]!.auth[0], { method: 'link', allowed_emails: [], allowed_domains: ['example.com'], link_ttl_seconds: 600 });
  await removeDir(dir);
});
