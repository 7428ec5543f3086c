// `node api/hash-token.ts [token]`: prints the SHA-256 digest to put in the API configuration's
// `tokens`. Without an argument it makes a new random token and prints both. Reads the token
// from stdin with `-` so it stays out of shell history.

import { readFileSync } from 'node:fs';
import { MIN_TOKEN_LENGTH, generateToken, hashToken } from './tokens.ts';

const argument = process.argv[2];
if (argument === undefined) {
  const token = generateToken();
  process.stdout.write(`token:  ${token}\nsha256: ${hashToken(token)}\n`);
} else {
  const token = argument === '-' ? readFileSync(0, 'utf8').trim() : argument;
  if (token.length < MIN_TOKEN_LENGTH) {
    process.stderr.write(`a token must be at least ${MIN_TOKEN_LENGTH} characters of random text; run without an argument to make one\n`);
    process.exit(1);
  }
  process.stdout.write(`${hashToken(token)}\n`);
}
