// `npm run trail-key -- --private FILE --public FILE`: makes the Ed25519 key pair of the trail.
// The private key (PKCS#8 PEM, mode 0600) is for the proxy alone (`access_log.signing_key_file`);
// the public key (SPKI PEM) is what an auditor gives `npm run verify-trail`. Existing files are
// never overwritten: a replaced key would leave the checkpoints signed with it unverifiable.

import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { keyIdOf } from '../common/trail.ts';

function fail(message: string): never {
  process.stderr.write(`trail-key: ${message}\nusage: npm run trail-key -- --private FILE --public FILE\n`);
  process.exit(1);
}

let values: { private?: string; public?: string };
try {
  ({ values } = parseArgs({ options: { private: { type: 'string' }, public: { type: 'string' } } }));
} catch (error) {
  fail((error as Error).message);
}
if (values.private === undefined) fail('--private: the file to write the private key to is required');
if (values.public === undefined) fail('--public: the file to write the public key to is required');

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
try {
  writeFileSync(values.private, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  writeFileSync(values.public, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644, flag: 'wx' });
} catch (error) {
  fail((error as Error).message);
}
process.stdout.write(`key ${keyIdOf(publicKey)}: private key in ${values.private} (mode 0600, for the proxy only), public key in ${values.public}\n`);
