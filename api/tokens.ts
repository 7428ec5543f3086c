// API tokens: configuration holds only their SHA-256 digests. Tokens are long random strings
// (hash-token.ts makes them), so a fast digest cannot be brute-forced, and it keeps the check
// cheap on every request; a slow KDF (scrypt) would make each request a CPU-bound target.
// A token may be limited to some services and to some permissions: what it matched is a
// TokenGrant, the only maker of the ServiceScope every event query is built with.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ForbiddenError } from './errors.ts';
import { ServiceScope } from './query/scope.ts';

/** Shortest token accepted by hash-token.ts: 128 bits of base64url is 22 characters. */
export const MIN_TOKEN_LENGTH = 22;

/** read: list and stats (and the page); export; insights; audit: the API's own audit log. */
export const PERMISSIONS = ['read', 'export', 'insights', 'audit'] as const;
export type Permission = (typeof PERMISSIONS)[number];
/** A token that names no permissions may do everything but read the audit log. */
export const DEFAULT_PERMISSIONS: readonly Permission[] = ['read', 'export', 'insights'];

export interface ConfiguredToken {
  name: string;
  sha256: string;
  /** Service ids the token sees; every service (and events of no service) when absent. */
  services?: readonly string[];
  permissions?: readonly Permission[];
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What a verified token may do. */
export class TokenGrant {
  /** The configured name: the token's id in logs and in the audit, never the token. */
  readonly name: string;
  readonly permissions: ReadonlySet<Permission>;
  /** The service ids the token sees; undefined: every service. */
  readonly services: readonly string[] | undefined;
  readonly #scope: ServiceScope;

  constructor(token: ConfiguredToken) {
    this.name = token.name;
    this.permissions = new Set(token.permissions ?? DEFAULT_PERMISSIONS);
    this.#scope = new ServiceScope(token.services);
    this.services = this.#scope.services;
  }

  /** Throws ForbiddenError (403) unless the token holds `permission`. */
  require(permission: Permission): void {
    if (!this.permissions.has(permission)) throw new ForbiddenError(permission);
  }

  /** The services an endpoint needing `permission` may query; ForbiddenError without the permission. */
  scopeFor(permission: Permission): ServiceScope {
    this.require(permission);
    return this.#scope;
  }
}

export class TokenVerifier {
  readonly #digests: { grant: TokenGrant; digest: Buffer }[];

  constructor(tokens: readonly ConfiguredToken[]) {
    this.#digests = tokens.map((t) => ({ grant: new TokenGrant(t), digest: Buffer.from(t.sha256, 'hex') }));
  }

  /**
   * The grant of the configured token the presented one matches, or undefined. Every digest is
   * compared, in constant time, whatever matched earlier.
   */
  verify(presented: string): TokenGrant | undefined {
    const digest = createHash('sha256').update(presented, 'utf8').digest();
    let matched: TokenGrant | undefined;
    for (const entry of this.#digests) {
      if (timingSafeEqual(digest, entry.digest) && matched === undefined) matched = entry.grant;
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
