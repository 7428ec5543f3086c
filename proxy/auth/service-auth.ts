// What every auth method offers the request handler: admit a request (or answer it), and serve
// the proxy's own endpoints under the reserved prefix. Shared here: session checks and logout.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Exchange } from '../exchange.ts';
import { redirect, sendText } from '../respond.ts';
import { LOGOUT_PATH } from './endpoints.ts';
import { clearCookieHeader, cookieValue, CookieSigner, SESSION_COOKIE, setCookieHeader, type CookieRead, type Session } from './session-cookie.ts';

export interface ServiceAuth {
  /** True when the request may go upstream (the exchange then carries the user); otherwise it was answered. */
  admit(req: IncomingMessage, res: ServerResponse, exchange: Exchange): boolean;
  /** For WebSocket upgrades, which cannot be shown a login page: true with a valid session, else the reason is set. */
  admitUpgrade(req: IncomingMessage, exchange: Exchange): boolean;
  /** Answers a request under the reserved prefix. */
  endpoint(req: IncomingMessage, res: ServerResponse, exchange: Exchange, path: string): void;
}

export class Sessions {
  readonly #signer: CookieSigner;
  readonly #ttlSeconds: number;

  constructor(signer: CookieSigner, ttlSeconds: number) {
    this.#signer = signer;
    this.#ttlSeconds = ttlSeconds;
  }

  get signer(): CookieSigner {
    return this.#signer;
  }

  /** The session for this service carried by the request, if any and valid. */
  read(req: IncomingMessage, service: string, method: Session['method']): CookieRead<Session> {
    const result = this.#signer.verify<Session>(cookieValue(req.headers.cookie, SESSION_COOKIE), Math.floor(Date.now() / 1000));
    if (result.status === 'valid' && (result.value.service !== service || result.value.method !== method)) return { status: 'missing' };
    return result;
  }

  issue(exchange: Exchange, session: Omit<Session, 'exp'>): string {
    const value = this.#signer.sign({ ...session, exp: Math.floor(Date.now() / 1000) + this.#ttlSeconds });
    return setCookieHeader(SESSION_COOKIE, value, '/', this.#ttlSeconds, isSecure(exchange));
  }
}

export function isSecure(exchange: Exchange): boolean {
  return exchange.protocol === 'https' || exchange.protocol === 'wss';
}

/** Admits a request with a valid session; sets the user on the exchange. Returns the failed status otherwise. */
export function admitSession(sessions: Sessions, req: IncomingMessage, exchange: Exchange, service: string, method: Session['method']): CookieRead<Session>['status'] {
  const result = sessions.read(req, service, method);
  if (result.status === 'valid') {
    exchange.userId = result.value.user;
    exchange.userEmail = result.value.email;
  }
  return result.status;
}

export function logout(res: ServerResponse, exchange: Exchange): void {
  redirect(res, exchange, 303, '/', [clearCookieHeader(SESSION_COOKIE, '/', isSecure(exchange))]);
}

/** Endpoints every method shares; false when `path` is not one of them. */
export function commonEndpoint(res: ServerResponse, exchange: Exchange, path: string): boolean {
  if (path === LOGOUT_PATH) {
    logout(res, exchange);
    return true;
  }
  return false;
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
  method: Session['method'],
  reasons: Record<'missing' | 'invalid' | 'expired', string>,
): boolean {
  const status = admitSession(sessions, req, exchange, service, method);
  if (status === 'valid') return true;
  exchange.reason = reasons[status];
  return false;
}

export class NoAuth implements ServiceAuth {
  admit(): boolean {
    return true;
  }

  admitUpgrade(): boolean {
    return true;
  }

  endpoint(_req: IncomingMessage, res: ServerResponse, exchange: Exchange, path: string): void {
    if (!commonEndpoint(res, exchange, path)) unknownEndpoint(res, exchange);
  }
}
