// What every auth method offers the request handler: admit a request (or answer it), and serve
// the proxy's own endpoints under the reserved prefix. Shared here: session checks and logout.

/** The access-log reason of a logout: the line that says a session ended. */
export const LOGGED_OUT_REASON = 'logged out';
/** Why a request without a usable session was not admitted, for the methods whose session is the proxy's cookie. */
export const SESSION_REASONS = { missing: 'missing session', invalid: 'invalid session', expired: 'session expired', revoked: 'session revoked' } as const;
const SESSION_ID_BYTES = 16;

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthMethod } from '../../common/access-record.ts';
import type { Exchange } from '../exchange.ts';
import { redirect, sendText } from '../respond.ts';
import { epochSeconds, type Clock } from './clock.ts';
import { requestOrigin, safeReturnPath } from './return-to.ts';
import { LOGOUT_PATH } from './endpoints.ts';
import type { RevokedSessions } from './revocations.ts';
import { clearCookieHeader, cookieValue, CookieSigner, SESSION_COOKIE, setCookieHeader, type CookieRead, type Session } from './session-cookie.ts';

export interface ServiceAuth {
  /**
   * True when the request may go upstream (the exchange then carries the user); otherwise it was
   * answered. A promise when the answer needs a hash check (HTTP Basic); it never rejects.
   */
  admit(req: IncomingMessage, res: ServerResponse, exchange: Exchange): boolean | Promise<boolean>;
  /** For WebSocket upgrades, which cannot be shown a login page: true with a valid session or credentials, else the reason is set. */
  admitUpgrade(req: IncomingMessage, exchange: Exchange): boolean | Promise<boolean>;
  /** Answers a request under the reserved prefix. */
  endpoint(req: IncomingMessage, res: ServerResponse, exchange: Exchange, path: string): void;
}

/** What a request's session cookie amounts to: a cookie read, or a valid one that logout revoked. */
export type SessionRead = CookieRead<Session> | { status: 'revoked'; value: Session };
export type SessionFailure = Exclude<SessionRead['status'], 'valid'>;

export class Sessions {
  readonly #signer: CookieSigner;
  readonly #ttlSeconds: number;
  readonly #revoked: RevokedSessions;
  readonly #clock: Clock;

  constructor(signer: CookieSigner, ttlSeconds: number, revoked: RevokedSessions, clock: Clock) {
    this.#signer = signer;
    this.#ttlSeconds = ttlSeconds;
    this.#revoked = revoked;
    this.#clock = clock;
  }

  get signer(): CookieSigner {
    return this.#signer;
  }

  get clock(): Clock {
    return this.#clock;
  }

  /** The session for this service carried by the request, if any, by one of `methods`, valid and not revoked. */
  read(req: IncomingMessage, service: string, methods: readonly AuthMethod[]): SessionRead {
    const result = this.#signer.verify<Session>(cookieValue(req.headers.cookie, SESSION_COOKIE), epochSeconds(this.#clock));
    if (!('value' in result)) return result;
    if (result.value.service !== service || !methods.includes(result.value.method)) return { status: 'missing' };
    if (typeof result.value.sid !== 'string') return { status: 'invalid' };
    if (result.status === 'expired') return result;
    return this.#revoked.has(result.value.sid) ? { status: 'revoked', value: result.value } : result;
  }

  issue(exchange: Exchange, session: Omit<Session, 'exp' | 'sid'>): string {
    const full: Session = { ...session, sid: randomBytes(SESSION_ID_BYTES).toString('base64url'), exp: epochSeconds(this.#clock) + this.#ttlSeconds };
    const value = this.#signer.sign(full);
    return setCookieHeader(SESSION_COOKIE, value, '/', this.#ttlSeconds, isSecure(exchange));
  }

  /** Ends the request's session for this service, when it carries a valid one; resolves once the revocation is saved. */
  async end(req: IncomingMessage, exchange: Exchange, service: string, methods: readonly AuthMethod[]): Promise<void> {
    const result = this.read(req, service, methods);
    if (result.status !== 'valid') return;
    exchange.authMethod = result.value.method;
    exchange.userId = result.value.user;
    exchange.userEmail = result.value.email;
    exchange.userName = result.value.name;
    await this.#revoked.revoke(result.value.sid, result.value.exp);
  }
}

export function isSecure(exchange: Exchange): boolean {
  return exchange.protocol === 'https' || exchange.protocol === 'wss';
}

/** Admits a request with a valid session; sets the user on the exchange. Returns the failed status otherwise. */
export function admitSession(sessions: Sessions, req: IncomingMessage, exchange: Exchange, service: string, method: AuthMethod): SessionRead['status'] {
  const result = sessions.read(req, service, [method]);
  if (result.status === 'valid') {
    exchange.userId = result.value.user;
    exchange.userEmail = result.value.email;
    exchange.userName = result.value.name;
  }
  return result.status;
}

/**
 * Admits a request with a session of `method`; otherwise answers it: `GET`/`HEAD` with the
 * method's form (`showForm`, status 401, the request's own path to return to), others a plain 401.
 */
export function admitOrShowForm(
  sessions: Sessions,
  req: IncomingMessage,
  res: ServerResponse,
  exchange: Exchange,
  service: string,
  method: AuthMethod,
  showForm: (returnTo: string) => void,
): boolean {
  const status = admitSession(sessions, req, exchange, service, method);
  if (status === 'valid') return true;
  exchange.reason = SESSION_REASONS[status];
  if (req.method === 'GET' || req.method === 'HEAD') showForm(safeReturnPath(req.url, requestOrigin(req, exchange)));
  else sendText(res, exchange, 401, 'login required');
  return false;
}

/** A parameter of the request's query string, or null. */
export function queryParam(req: IncomingMessage, name: string): string | null {
  return URL.parse(req.url ?? '/', 'http://query.invalid')?.searchParams.get(name) ?? null;
}

/** The return path a login endpoint was given in its query (`?return_to=`), checked like any other. */
export function queryReturnPath(req: IncomingMessage, exchange: Exchange): string {
  return safeReturnPath(queryParam(req, 'return_to'), requestOrigin(req, exchange));
}

/** Endpoints every method shares; false when `path` is not one of them. */
export function commonEndpoint(
  req: IncomingMessage,
  res: ServerResponse,
  exchange: Exchange,
  path: string,
  sessions: Sessions,
  service: string,
  methods: readonly AuthMethod[],
): boolean {
  if (path !== LOGOUT_PATH) return false;
  exchange.reason = LOGGED_OUT_REASON;
  void sessions.end(req, exchange, service, methods).then(() => {
    if (!exchange.done) redirect(res, exchange, 303, '/', [clearCookieHeader(SESSION_COOKIE, '/', isSecure(exchange))]);
  });
  return true;
}

export function unknownEndpoint(res: ServerResponse, exchange: Exchange): void {
  exchange.reason = 'unknown proxy endpoint';
  sendText(res, exchange, 404, 'not found');
}

/** Session check alone, for upgrades; `reasons` names each way it can fail. */
export function admitUpgradeSession(
  sessions: Sessions,
  req: IncomingMessage,
  exchange: Exchange,
  service: string,
  method: AuthMethod,
  reasons: Record<SessionFailure, string>,
): boolean {
  const status = admitSession(sessions, req, exchange, service, method);
  if (status === 'valid') return true;
  exchange.reason = reasons[status];
  return false;
}

export class NoAuth implements ServiceAuth {
  readonly #service: string;
  readonly #sessions: Sessions;

  constructor(service: string, sessions: Sessions) {
    this.#service = service;
    this.#sessions = sessions;
  }

  admit(): boolean {
    return true;
  }

  admitUpgrade(): boolean {
    return true;
  }

  endpoint(req: IncomingMessage, res: ServerResponse, exchange: Exchange, path: string): void {
    if (!commonEndpoint(req, res, exchange, path, this.#sessions, this.#service, ['none'])) unknownEndpoint(res, exchange);
  }
}
