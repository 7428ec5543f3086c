// The production units and examples: systemd-analyze verifies every unit without a warning,
// systemd-sysusers and systemd-tmpfiles make the users and directories they name (in a scratch
// root), each unit's hardening is on, and the units, directories and example configurations agree
// on where each part reads, writes and listens.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { apiConfigSchema } from '../../api/config.ts';
import { validateConfig } from '../../common/config.ts';
import { proxyConfigSchema } from '../../proxy/config.ts';
import { shipperConfigSchema } from '../../shipper/config.ts';
import { SHIPPER_NODE_FLAGS } from '../../shipper/node-flags.ts';

const SYSTEMD = resolve('ops/systemd');
const EXAMPLES = resolve('examples/production');
const UNITS = readdirSync(SYSTEMD).filter((name) => /\.(service|timer)$/.test(name));
const HARDENING = ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'RestrictNamespaces=yes', 'SystemCallFilter=@system-service'];

/** A unit's `Key=value` settings, each key with all its values. */
function settings(unit: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const line of readFileSync(join(SYSTEMD, unit), 'utf8').split('\n')) {
    const match = /^(\w+)=(.*)$/.exec(line);
    if (match) found.set(match[1]!, [...(found.get(match[1]!) ?? []), match[2]!]);
  }
  return found;
}

function one(unit: string, key: string): string {
  const values = settings(unit).get(key) ?? [];
  assert.equal(values.length, 1, `${unit}: one ${key}=`);
  return values[0]!;
}

function example(name: string): unknown {
  return JSON.parse(readFileSync(join(EXAMPLES, name), 'utf8'));
}

describe('systemd units', () => {
  const root = mkdtempSync(join(tmpdir(), 'systemd-root-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('pass systemd-analyze verify without a warning', () => {
    assert.deepEqual(UNITS.sort(), [
      'proxy-access-log-api.service',
      'proxy-access-log-proxy.service',
      'proxy-access-log-retention.service',
      'proxy-access-log-retention.timer',
      'proxy-access-log-shipper.service',
    ]);
    const verified = spawnSync('systemd-analyze', ['verify', ...UNITS.map((unit) => join(SYSTEMD, unit))], { encoding: 'utf8' });
    assert.equal(verified.status, 0, verified.stderr);
    assert.equal(verified.stderr.trim(), '', 'no warning');
  });

  it('run each part as its own unprivileged user, hardened, writing only its own directories', () => {
    const users = new Set<string>();
    for (const unit of UNITS.filter((name) => name.endsWith('.service'))) {
      const unitSettings = settings(unit);
      for (const setting of HARDENING) {
        const [key, value] = setting.split('=') as [string, string];
        assert.deepEqual(unitSettings.get(key), [value], `${unit}: ${setting}`);
      }
      assert.ok(!unitSettings.has('MemoryDenyWriteExecute'), `${unit}: V8's JIT needs writable and executable memory`);
      const user = unitSettings.get('User')?.[0] ?? (unitSettings.get('DynamicUser')?.[0] === 'yes' ? 'dynamic' : undefined);
      assert.ok(user && user !== 'root', `${unit}: an unprivileged user`);
      if (user !== 'dynamic') users.add(user);
    }
    assert.equal(users.size, 3, 'proxy, shipper and API each have their own user');
    assert.deepEqual(one('proxy-access-log-proxy.service', 'ReadWritePaths').split(' '), ['/var/log/proxy-access-log', '/var/lib/proxy-access-log-proxy']);
    assert.equal(one('proxy-access-log-shipper.service', 'ReadWritePaths'), '/var/lib/proxy-access-log-shipper');
    assert.equal(one('proxy-access-log-api.service', 'ReadWritePaths'), '/var/lib/proxy-access-log-api');
    assert.equal(one('proxy-access-log-shipper.service', 'SupplementaryGroups'), one('proxy-access-log-proxy.service', 'Group'), 'the shipper reads the log through the proxy’s group');
  });

  it('get their users and directories from sysusers.d and tmpfiles.d', () => {
    mkdirSync(join(root, 'etc'));
    for (const file of ['passwd', 'group', 'shadow', 'gshadow']) writeFileSync(join(root, 'etc', file), '');
    execFileSync('systemd-sysusers', [`--root=${root}`, join(SYSTEMD, 'sysusers.d/proxy-access-log.conf')], { stdio: 'pipe' });
    execFileSync('systemd-tmpfiles', [`--root=${root}`, '--create', join(SYSTEMD, 'tmpfiles.d/proxy-access-log.conf')], { stdio: 'pipe' });
    const ids = new Map(readFileSync(join(root, 'etc/passwd'), 'utf8').trim().split('\n').map((line) => [line.split(':')[0]!, Number(line.split(':')[2])]));
    const groups = new Map(readFileSync(join(root, 'etc/group'), 'utf8').trim().split('\n').map((line) => [line.split(':')[0]!, line.split(':')]));
    for (const unit of ['proxy', 'shipper', 'api']) assert.ok(ids.has(one(`proxy-access-log-${unit}.service`, 'User')), `${unit}'s user is created`);
    assert.deepEqual(groups.get('proxy-access-log-logs')?.[3]?.split(','), ['proxy-access-log-shipper']);

    const logDir = statSync(join(root, 'var/log/proxy-access-log'));
    assert.equal(logDir.mode & 0o777, 0o750);
    assert.equal(logDir.uid, ids.get('proxy-access-log-proxy'));
    assert.equal(logDir.gid, Number(groups.get('proxy-access-log-logs')![2]));
    for (const part of ['proxy', 'shipper', 'api']) {
      const state = statSync(join(root, `var/lib/proxy-access-log-${part}`));
      assert.equal(state.mode & 0o777, 0o700, `${part}'s state is its own`);
      assert.equal(state.uid, ids.get(`proxy-access-log-${part}`));
    }
  });

  it('start the shipper with its heap bounds, as npm run shipper does', () => {
    const flags = SHIPPER_NODE_FLAGS.join(' ');
    assert.match(one('proxy-access-log-shipper.service', 'ExecStart'), new RegExp(`^/usr/bin/node ${flags} /opt/proxy-access-log/shipper/main\\.ts `));
    const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
    assert.equal(scripts.shipper, `exec node ${flags} shipper/main.ts`);
  });

  it('agree with the production configurations on files, directories and listeners', () => {
    const proxy = validateConfig(proxyConfigSchema, example('proxy.json'), 'examples/production/proxy.json');
    const shipper = validateConfig(shipperConfigSchema, example('shipper.json'), 'examples/production/shipper.json');
    const api = validateConfig(apiConfigSchema, example('api.json'), 'examples/production/api.json');
    for (const part of ['proxy', 'shipper', 'api']) {
      assert.match(one(`proxy-access-log-${part}.service`, 'ExecStart'), new RegExp(` --config /etc/proxy-access-log/${part}\\.json$`));
    }
    const [logDir, proxyState] = one('proxy-access-log-proxy.service', 'ReadWritePaths').split(' ');
    assert.equal(proxy.access_log.dir, logDir);
    assert.equal(shipper.logs, logDir);
    assert.ok(proxy.sessions.secret_file?.startsWith(`${proxyState}/`), 'the revoked-sessions file beside the key is writable');
    assert.equal(shipper.state, one('proxy-access-log-shipper.service', 'ReadWritePaths'));
    assert.ok(api.audit.file.startsWith(`${one('proxy-access-log-api.service', 'ReadWritePaths')}/`), 'the API can append its audit file');
    assert.ok(proxy.tls, 'the proxy serves TLS');
    for (const connection of [shipper.elasticsearch, api.elasticsearch]) {
      assert.match(connection!.url, /^https:/);
      assert.ok(connection!.ca_file && connection!.api_key, 'each part has the CA and its own key');
    }
    for (const listener of [proxy.status, shipper.metrics, api.metrics, api.listen]) assert.equal(listener?.host, '127.0.0.1', 'status and metrics stay off the public interfaces');
    const retentionEnv = readFileSync(join(EXAMPLES, 'retention.env'), 'utf8');
    assert.equal(one('proxy-access-log-retention.service', 'EnvironmentFile'), '/etc/proxy-access-log/retention.env');
    for (const name of ['ELASTICSEARCH_URL', 'ELASTICSEARCH_CA_FILE', 'ELASTICSEARCH_API_KEY']) assert.match(retentionEnv, new RegExp(`^${name}=`, 'm'));
  });
});
