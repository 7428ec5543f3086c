// `npm run verify-trail -- [--files DIR] [--since T] [--until T] --public-key FILE [--index-prefix P]`:
// checks the proxy's trail in a log directory and/or in the indices (when ELASTICSEARCH_URL and
// friends name a cluster, Elasticsearch or OpenSearch) against the chain and the checkpoints signed with the proxy's key.
// Prints what it checked, what is not tampering but worth knowing (declared gaps, cuts, the unsigned
// tail), and every finding: the missing, altered, inserted or reordered record by proxy and
// sequence. Exit 0: the trail verifies; 1: findings; 2: it could not check (bad option, unreadable
// key or directory, cluster unreachable or not the engine named).

import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { connectionFromEnv } from '../../common/elasticsearch-connection.ts';
import { DEFAULT_INDEX_PREFIX } from '../../common/proxy-event-document.ts';
import { checkEngine } from '../../common/search-engine.ts';
import { createStorage } from '../../common/storage/create.ts';
import { keyIdOf } from '../../common/trail.ts';
import { verifyIndices, type TimeRange } from './indices.ts';
import { verifyFiles } from './files.ts';
import { emptyVerification, type Verification } from './verifier.ts';

const EXIT_FINDINGS = 1;
const EXIT_UNCHECKED = 2;

function fail(message: string): never {
  process.stderr.write(`verify-trail: ${message}\nusage: npm run verify-trail -- [--files DIR] [--since T] [--until T] --public-key FILE [--index-prefix P]\n`);
  process.exit(EXIT_UNCHECKED);
}

let values: { files?: string; since?: string; until?: string; 'public-key'?: string[]; 'index-prefix'?: string };
try {
  ({ values } = parseArgs({
    options: {
      files: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      'public-key': { type: 'string', multiple: true },
      'index-prefix': { type: 'string' },
    },
  }));
} catch (error) {
  fail((error as Error).message);
}

const keys = new Map<string, KeyObject>();
for (const file of values['public-key'] ?? []) {
  try {
    const key = createPublicKey(readFileSync(file));
    if (key.asymmetricKeyType !== 'ed25519') fail(`--public-key ${file}: an Ed25519 public key is required, this one is ${key.asymmetricKeyType}`);
    keys.set(keyIdOf(key), key);
  } catch (error) {
    fail(`--public-key ${file}: not a readable public key (${(error as Error).message})`);
  }
}
if (keys.size === 0) fail('--public-key: the proxy’s public key (npm run trail-key) is required');

function time(name: 'since' | 'until'): Date | undefined {
  const text = values[name];
  if (text === undefined) return undefined;
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) fail(`--${name} ${text}: not a date or time (ISO 8601, e.g. 2026-03-09 or 2026-03-09T12:00:00Z)`);
  return at;
}
const range: TimeRange = { since: time('since'), until: time('until') };
const connection = connectionFromEnv();
if (values.files === undefined && !connection) fail('nothing to check: give --files DIR, or name a cluster with ELASTICSEARCH_URL (and ELASTICSEARCH_API_KEY or _USERNAME/_PASSWORD)');

const say = (line: string) => process.stdout.write(`${line}\n`);

function report(what: string, verification: Verification): number {
  for (const chain of verification.chains) {
    const signed = chain.signedThrough === undefined ? 'no signed checkpoint' : `signed through ${chain.signedThrough}`;
    say(`${what}: proxy ${chain.proxy}: sequences ${chain.first} to ${chain.last}, ${chain.entries} entries, ${chain.checkpoints} checkpoints, ${signed}`);
  }
  for (const notice of verification.notices) say(`${what}: note: ${notice.proxy ? `proxy ${notice.proxy}: ` : ''}${notice.detail}`);
  for (const finding of verification.findings) {
    const seq = finding.seq === undefined ? '' : ` sequence ${finding.seq}`;
    say(`${what}: ${finding.kind.toUpperCase()}: proxy ${finding.proxy}${seq}${finding.where ? ` at ${finding.where}` : ''}: ${finding.detail}`);
  }
  if (verification.chains.length === 0 && verification.findings.length === 0) say(`${what}: no trail found`);
  return verification.findings.length;
}

let findings = 0;
if (values.files !== undefined) {
  const verification = emptyVerification();
  try {
    await verifyFiles(values.files, keys, verification);
  } catch (error) {
    fail(`--files ${values.files}: ${(error as Error).message}`);
  }
  findings += report(`files ${values.files}`, verification);
}
if (connection) {
  const prefix = values['index-prefix'] ?? DEFAULT_INDEX_PREFIX;
  const storage = createStorage(connection);
  const verification = emptyVerification();
  try {
    await checkEngine(connection, storage.engine);
    await verifyIndices(storage, prefix, range, keys, verification);
  } catch (error) {
    fail(`${connection.url}: ${(error as Error).message}`);
  } finally {
    await storage.close();
  }
  findings += report(`${storage.engine} ${prefix}`, verification);
}
say(findings === 0 ? 'verify-trail: the trail verifies' : `verify-trail: ${findings} findings`);
process.exit(findings === 0 ? 0 : EXIT_FINDINGS);
