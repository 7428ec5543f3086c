// HTTP Basic services, for scripts and API clients: every request carries a username and password
// (RFC 7617), checked against the configured users' scrypt hashes under the same failed-attempt
// limits as the login forms. No redirect and no session: a request without good credentials gets a
// 401 challenge. A scrypt check per request would cost tens of milliseconds, so credentials once
// verified are remembered for a short while, keyed by a keyed hash (never the password itself).

import { createHmac, randomBytes, type KeyObject, createSecretKey } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { TOO_MANY_ATTEMPTS_STATUS } from '../../common/access-record.ts';
import type { AuthConfig } from '../config.ts';
import type { Exchange } from '../exchange.ts';
import { sendText, sendUnexpected, UNEXPECTED_ERROR_REASON } from '../respond.ts';
import { verifySecret, type SecretHash } from '../secret-hash.ts';
import type { Clock } from './clock.ts';
import { FailedAttemptLimiter, retryAfterHeader, type ServiceLockout } from './rate-limit.ts';
import { unknownEndpoint, type ServiceAuth } from './service-auth.ts';

type BasicConfig = Extract<AuthConfig, { method: 'basic' }>;

export const BASIC_REASONS = {
  missing: 'missing credentials',
  malformed: 'malformed credentials',
  unknownUser: 'unknown user',
  invalid: 'invalid password',
} as const;

/** How long verified credentials are taken without another scrypt check, and how many are kept. */
const VERIFIED_TTL_MS = 5 * 60_000;
const MAX_VERIFIED = 1_000;
const MAX_CREDENTIALS_LENGTH = 2_048;
const SCHEME = /^basic[ \t]+/i;

/** The challenge of a 401 for a service that takes Basic credentials. */
export function basicChallenge(service: string): Record<string, string> {
  return { 'www-authenticate': `Basic realm="${service}"` };
}

/** True when the request offers Basic credentials (any other Authorization scheme is the upstream's business). */
export function offersBasic(req: IncomingMessage): boolean {
  const header = req.headers.authorization;
  return header !== undefined && SCHEME.test(header);
}

function decodeCredentials(header: string): { username: string; password: string } | undefined {
  const encoded = header.replace(SCHEME, '').trim();
  if (encoded.length === 0 || encoded.length > MAX_CREDENTIALS_LENGTH || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

type Verdict = { admitted: true } | { admitted: false; status: 401 | 429; retryAfter: number };

export class BasicLogin implements ServiceAuth {
  readonly #service: string;
  readonly #users: Map<string, SecretHash>;
  /** Checked for an unknown username, so that it costs as long as a known one. */
  readonly #decoy: SecretHash;
  readonly #limiter: FailedAttemptLimiter;
  readonly #lockout: ServiceLockout;
  readonly #clock: Clock;
  readonly #diagnostics: Logger;
  readonly #cacheKey: KeyObject = createSecretKey(randomBytes(32));
  /** Keyed hash of verified `username:password` → when it must be checked again. */
  readonly #verified = new Map<string, number>();

  constructor(service: string, config: BasicConfig, limiter: FailedAttemptLimiter, lockout: ServiceLockout, clock: Clock, diagnostics: Logger) {
    this.#service = service;
    this.#users = new Map(config.users.map((user) => [user.username, user.hash]));
    const model = config.users[0]!.hash;
    this.#decoy = { ...model, salt: randomBytes(model.salt.length), key: randomBytes(model.key.length) };
    this.#limiter = limiter;
    this.#lockout = lockout;
    this.#clock = clock;
    this.#diagnostics = diagnostics;
  }

  admit(req: IncomingMessage, res: ServerResponse, exchange: Exchange): boolean | Promise<boolean> {
    const answer = (verdict: Verdict): boolean => {
      if (verdict.admitted) return true;
      if (verdict.status === TOO_MANY_ATTEMPTS_STATUS) sendText(res, exchange, verdict.status, 'too many failed attempts, try again later', retryAfterHeader(verdict.retryAfter));
      else sendText(res, exchange, 401, 'login required', basicChallenge(this.#service));
      return false;
    };
    const verdict = this.#verify(req, exchange);
    if (!(verdict instanceof Promise)) return answer(verdict);
    return verdict.then(
      (settled) => !exchange.done && answer(settled),
      (error: unknown) => {
        sendUnexpected(res, exchange, this.#diagnostics, error);
        return false;
      },
    );
  }

  admitUpgrade(req: IncomingMessage, exchange: Exchange): boolean | Promise<boolean> {
    const verdict = this.#verify(req, exchange);
    if (!(verdict instanceof Promise)) return verdict.admitted;
    return verdict.then(
      (settled) => settled.admitted,
      (error: unknown) => {
        this.#diagnostics.error({ request_id: exchange.id, err: error }, UNEXPECTED_ERROR_REASON);
        exchange.reason = UNEXPECTED_ERROR_REASON;
        return false;
      },
    );
  }

  endpoint(_req: IncomingMessage, res: ServerResponse, exchange: Exchange): void {
    unknownEndpoint(res, exchange);
  }

  /** Settles at once for a missing or remembered credential; checks the hash otherwise. Sets the user or the reason. */
  #verify(req: IncomingMessage, exchange: Exchange): Verdict | Promise<Verdict> {
    exchange.authMethod = 'basic';
    const header = req.headers.authorization;
    if (header === undefined || !SCHEME.test(header)) {
      exchange.reason = BASIC_REASONS.missing;
      return { admitted: false, status: 401, retryAfter: 0 };
    }
    const key = FailedAttemptLimiter.key(this.#service, exchange.sourceIp);
    const credentials = decodeCredentials(header);
    const remembered = credentials === undefined ? undefined : this.#remembered(credentials.username, credentials.password);
    if (remembered !== undefined && this.#limiter.retryAfter(key) === 0 && this.#lockout.retryAfter() === 0) {
      exchange.userId = exchange.userName = credentials!.username;
      return { admitted: true };
    }
    return this.#check(key, credentials, exchange);
  }

  async #check(key: string, credentials: { username: string; password: string } | undefined, exchange: Exchange): Promise<Verdict> {
    const hash = credentials === undefined ? undefined : (this.#users.get(credentials.username) ?? this.#decoy);
    const check = await this.#limiter.checkSecret(this.#lockout, key, hash === undefined ? undefined : () => verifySecret(credentials!.password, hash));
    if (check.outcome === 'refused') {
      exchange.reason = check.reason;
      return { admitted: false, status: TOO_MANY_ATTEMPTS_STATUS, retryAfter: check.retryAfter };
    }
    // The decoy never matches: it was made from random bytes.
    if (check.outcome === 'invalid') {
      exchange.reason = credentials === undefined ? BASIC_REASONS.malformed : this.#users.has(credentials.username) ? BASIC_REASONS.invalid : BASIC_REASONS.unknownUser;
      return { admitted: false, status: 401, retryAfter: 0 };
    }
    this.#remember(credentials!.username, credentials!.password);
    exchange.userId = exchange.userName = credentials!.username;
    return { admitted: true };
  }

  #fingerprint(username: string, password: string): string {
    return createHmac('sha256', this.#cacheKey).update(username).update('\0').update(password).digest('base64url');
  }

  #remembered(username: string, password: string): true | undefined {
    const fingerprint = this.#fingerprint(username, password);
    const until = this.#verified.get(fingerprint);
    if (until === undefined) return undefined;
    if (until > this.#clock()) return true;
    this.#verified.delete(fingerprint);
    return undefined;
  }

  #remember(username: string, password: string): void {
    const fingerprint = this.#fingerprint(username, password);
    this.#verified.delete(fingerprint);
    this.#verified.set(fingerprint, this.#clock() + VERIFIED_TTL_MS);
    if (this.#verified.size > MAX_VERIFIED) this.#verified.delete(this.#verified.keys().next().value!);
  }
}
