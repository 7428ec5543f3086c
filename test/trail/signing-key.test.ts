// The trail's signing key as the operator configures it: an empty path is a configuration error
// naming the key; a missing file or a key that is not Ed25519 stops the proxy at start (exit 1)
// naming the key; trail-key never overwrites a key. And verify-trail checks nothing without a key.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../proxy/config.ts';
import { removeDir, serviceConfig, tempDir } from '../proxy/helpers.ts';
import { runProxyMain } from '../proxy/process.ts';
import { makeKeyPair, verifyTrail } from './verify-trail.ts';

describe('the trail signing key', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir('trail-key');
  });
  after(() => removeDir(dir));

  const config = (signingKeyFile: string) => ({
    proxy_id: 'keyed',
    listen: { host: '127.0.0.1', port: 0 },
    access_log: { dir: join(dir, 'logs'), signing_key_file: signingKeyFile },
    services: [serviceConfig('app', 'http://127.0.0.1:9')],
  });

  it('an empty access_log.signing_key_file is CONFIG_INVALID naming the key; a relative one is taken from the file’s folder', async () => {
    const file = join(dir, 'empty.json');
    await writeFile(file, JSON.stringify(config('')));
    assert.throws(() => loadConfig(file), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'CONFIG_INVALID');
      assert.match(error.message, /^ {2}access_log\.signing_key_file: /m);
      return true;
    });
    await writeFile(file, JSON.stringify(config('keys/trail.key')));
    assert.equal(loadConfig(file).access_log.signing_key_file, join(dir, 'keys/trail.key'));
  });

  for (const [what, prepare] of [
    ['a missing file', async () => join(dir, 'absent.key')],
    [
      'an RSA key',
      async () => {
        const path = join(dir, 'rsa.key');
        await writeFile(path, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
        return path;
      },
    ],
  ] as const) {
    it(`${what} stops the proxy at start, exit 1, naming access_log.signing_key_file`, async () => {
      const file = join(dir, `${what.replaceAll(' ', '-')}.json`);
      await writeFile(file, JSON.stringify(config(await prepare())));
      const { done } = runProxyMain(file);
      const { code, stderr } = await done;
      assert.equal(code, 1);
      assert.match(stderr, /proxy failed to start/);
      assert.match(stderr, /access_log\.signing_key_file .*(not a readable private key|an Ed25519 key is required)/);
    });
  }

  it('trail-key refuses to overwrite a key; verify-trail needs a public key and something to check (exit 2)', async () => {
    const pair = await makeKeyPair(dir, 'once');
    await assert.rejects(makeKeyPair(dir, 'once'), /EEXIST/);
    const noKey = await verifyTrail(['--files', dir]);
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /--public-key: .* is required/);
    const nothing = await verifyTrail(['--public-key', pair.publicFile]);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /nothing to check/);
    const privateAsPublic = await verifyTrail(['--files', dir, '--public-key', join(dir, 'rsa.key')]);
    assert.equal(privateAsPublic.code, 2, 'an RSA key is refused');
  });
});
