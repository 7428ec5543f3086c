// Password and PIN hashes: scrypt in a self-describing PHC-style string,
// `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt base64>$<hash base64>`, so parameters can be raised later
// without invalidating stored hashes.

import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { SecretHashError } from './errors.ts';

const DEFAULT_LOG_N = 15;
const DEFAULT_R = 8;
const DEFAULT_P = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
const HASH_PATTERN = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,}={0,2})\$([A-Za-z0-9+/]{32,}={0,2})$/;

export interface SecretHash {
  logN: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

export function parseSecretHash(text: string): SecretHash {
  const match = HASH_PATTERN.exec(text);
  if (!match) throw new SecretHashError('not a scrypt hash of the form $scrypt$ln=..,r=..,p=..$salt$hash (make one with npm run hash-secret)');
  const logN = Number(match[1]);
  const r = Number(match[2]);
  const p = Number(match[3]);
  if (logN < 10 || logN > 20 || r < 1 || p < 1 || p > 16) throw new SecretHashError(`scrypt parameters out of range (ln=${logN}, r=${r}, p=${p})`);
  return { logN, r, p, salt: Buffer.from(match[4]!, 'base64'), key: Buffer.from(match[5]!, 'base64') };
}

function derive(secret: string, salt: Buffer, logN: number, r: number, p: number, length: number): Promise<Buffer> {
  const N = 2 ** logN;
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(secret, salt, DEFAULT_LOG_N, DEFAULT_R, DEFAULT_P, KEY_BYTES);
  return `$scrypt$ln=${DEFAULT_LOG_N},r=${DEFAULT_R},p=${DEFAULT_P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifySecret(secret: string, hash: SecretHash): Promise<boolean> {
  const key = await derive(secret, hash.salt, hash.logN, hash.r, hash.p, hash.key.length);
  return timingSafeEqual(key, hash.key);
}
