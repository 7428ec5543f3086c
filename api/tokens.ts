// API tokens: configuration holds only their SHA-256 digests. Tokens are long random strings
// (hash-token.ts makes them), so a fast digest cannot be brute-forced, and it keeps the check
// cheap on every request; a slow KDF (scrypt) would make each request a CPU-bound target.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Shortest token accepted by hash-token.ts: 128 bits of base64url is 22 characters. */
export const MIN_TOKEN_LENGTH = 22;

export interface ConfiguredToken {
  name: string;
  sha256: string;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

export class TokenVerifier {
  readonly #digests: { name: string; digest: Buffer }[];

  constructor(tokens: readonly ConfiguredToken[]) {
    this.#digests = tokens.map((t) => ({ name: t.name, digest: Buffer.from(t.sha256, 'hex') }));
  }

  /**
   * The name of the configured token the presented one matches, or undefined. Every digest is
   * compared, in constant time, whatever matched earlier.
   */
  verify(presented: string): string | undefined {
    const digest = createHash('sha256').update(presented, 'utf8').digest();
    let matched: string | undefined;
    for (const entry of this.#digests) {
      if (timingSafeEqual(digest, entry.digest) && matched === undefined) matched = entry.name;
    }
    return matched;
  }
}

/** The token of an `Authorization: Bearer <token>` header (or NetBird's `Token <token>`). */
export function presentedToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^(?:Bearer|Token)[ ]+([^\s]+)\s*$/i.exec(header);
  return match?.[1];
}
