// SSO services: the OIDC authorization-code flow with PKCE, state and nonce (openid-client)
// against the configured issuer. The user is the ID token's `sub` (with `email` and a name when present);
// an allow-list of users or groups decides who gets a session. Failed callbacks count against the
// same per-IP-and-service limit as wrong passwords.

import type { IncomingMessage, ServerResponse } from 'node:http';
import * as oidc from 'openid-client';
import type { Logger } from 'pino';
import { TOO_MANY_ATTEMPTS_STATUS } from '../../common/access-record.ts';
import type { AuthConfig } from '../config.ts';
import type { Exchange } from '../exchange.ts';
import { redirect, sendText, sendUnexpected } from '../respond.ts';
import { epochSeconds } from './clock.ts';
import { CALLBACK_PATH, LOGIN_PATH } from './endpoints.ts';
import { FailedAttemptLimiter, retryAfterHeader, TOO_MANY_ATTEMPTS_REASON } from './rate-limit.ts';
import { requestOrigin, safeReturnPath } from './return-to.ts';
import { clearCookieHeader, cookieValue, setCookieHeader, SSO_STATE_COOKIE } from './session-cookie.ts';
import { admitSession, admitUpgradeSession, commonEndpoint, isSecure, queryReturnPath, unknownEndpoint, type ServiceAuth, type Sessions } from './service-auth.ts';
import { isIssuerFailure, ssoFailure } from './sso-errors.ts';

type SsoConfig = Extract<AuthConfig, { method: 'sso' }>;

/** How long a started login may take before its state cookie expires. */
const LOGIN_STATE_SECONDS = 600;
export const SSO_SESSION_REASONS = { missing: 'missing SSO session', invalid: 'invalid SSO session', expired: 'SSO session expired', revoked: 'SSO session revoked' } as const;

interface LoginState {
  service: string;
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
  exp: number;
}

/** The user's display name: `name`, else `preferred_username`; an empty or non-text claim counts as absent. */
function nameOf(claims: oidc.IDToken): string | undefined {
  for (const claim of [claims.name, claims.preferred_username]) {
    if (typeof claim === 'string' && claim.length > 0) return claim;
  }
  return undefined;
}

function isLoopback(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
}

export class SsoLogin implements ServiceAuth {
  readonly #service: string;
  readonly #config: SsoConfig;
  readonly #sessions: Sessions;
  readonly #limiter: FailedAttemptLimiter;
  readonly #diagnostics: Logger;
  #discovery: Promise<oidc.Configuration> | undefined;

  constructor(service: string, config: SsoConfig, sessions: Sessions, limiter: FailedAttemptLimiter, diagnostics: Logger) {
    this.#service = service;
    this.#config = config;
    this.#sessions = sessions;
    this.#limiter = limiter;
    this.#diagnostics = diagnostics;
  }

  /** Discovery is cached once it succeeds; a failure is retried on the next login. */
  #issuer(): Promise<oidc.Configuration> {
    if (this.#discovery === undefined) {
      const issuer = new URL(this.#config.issuer);
      // Plain HTTP is accepted for a loopback issuer only (local development and tests).
      const options = issuer.protocol === 'http:' && isLoopback(issuer) ? { execute: [oidc.allowInsecureRequests] } : undefined;
      this.#discovery = oidc.discovery(issuer, this.#config.client_id, this.#config.client_secret, undefined, options);
      this.#discovery.catch(() => (this.#discovery = undefined));
    }
    return this.#discovery;
  }

  admit(req: IncomingMessage, res: ServerResponse, exchange: Exchange): boolean {
    const status = admitSession(this.#sessions, req, exchange, this.#service, 'sso');
    if (status === 'valid') return true;
    exchange.reason = SSO_SESSION_REASONS[status];
    if (req.method === 'GET' || req.method === 'HEAD') this.#start(req, res, exchange, safeReturnPath(req.url, requestOrigin(req, exchange))).catch((error: unknown) => sendUnexpected(res, exchange, this.#diagnostics, error));
    else sendText(res, exchange, 401, 'login required');
    return false;
  }

  admitUpgrade(req: IncomingMessage, exchange: Exchange): boolean {
    return admitUpgradeSession(this.#sessions, req, exchange, this.#service, 'sso', SSO_SESSION_REASONS);
  }

  endpoint(req: IncomingMessage, res: ServerResponse, exchange: Exchange, path: string): void {
    if (path === CALLBACK_PATH) this.#callback(req, res, exchange).catch((error: unknown) => sendUnexpected(res, exchange, this.#diagnostics, error));
    else if (path === LOGIN_PATH) this.#start(req, res, exchange, queryReturnPath(req, exchange)).catch((error: unknown) => sendUnexpected(res, exchange, this.#diagnostics, error));
    else if (!commonEndpoint(req, res, exchange, path, this.#sessions, this.#service, ['sso'])) unknownEndpoint(res, exchange);
  }

  #redirectUri(req: IncomingMessage, exchange: Exchange): string {
    return `${requestOrigin(req, exchange)}${CALLBACK_PATH}`;
  }

  /** `returnTo` is already a safe return path. */
  async #start(req: IncomingMessage, res: ServerResponse, exchange: Exchange, returnTo: string): Promise<void> {
    let issuer: oidc.Configuration;
    try {
      issuer = await this.#issuer();
    } catch (error) {
      if (!isIssuerFailure(error)) throw error;
      exchange.reason = 'SSO issuer unreachable';
      sendText(res, exchange, 502, 'the sign-in service is unreachable');
      return;
    }
    const verifier = oidc.randomPKCECodeVerifier();
    const login: LoginState = {
      service: this.#service,
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier,
      returnTo,
      exp: epochSeconds(this.#sessions.clock) + LOGIN_STATE_SECONDS,
    };
    const url = oidc.buildAuthorizationUrl(issuer, {
      redirect_uri: this.#redirectUri(req, exchange),
      scope: this.#config.scopes.join(' '),
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: login.state,
      nonce: login.nonce,
    });
    const cookie = setCookieHeader(SSO_STATE_COOKIE, this.#sessions.signer.sign(login), CALLBACK_PATH, LOGIN_STATE_SECONDS, isSecure(exchange));
    redirect(res, exchange, 302, url.href, [cookie]);
  }

  async #callback(req: IncomingMessage, res: ServerResponse, exchange: Exchange): Promise<void> {
    const clearState = clearCookieHeader(SSO_STATE_COOKIE, CALLBACK_PATH, isSecure(exchange));
    const limitKey = FailedAttemptLimiter.key(this.#service, exchange.sourceIp);
    const deny = (status: number, reason: string) => {
      if (status === 403) this.#limiter.recordFailure(limitKey);
      exchange.reason = reason;
      sendText(res, exchange, status, status === 403 ? `access denied: ${reason}` : reason, { 'set-cookie': clearState });
    };
    const retryAfter = this.#limiter.retryAfter(limitKey);
    if (retryAfter > 0) {
      exchange.reason = TOO_MANY_ATTEMPTS_REASON;
      sendText(res, exchange, TOO_MANY_ATTEMPTS_STATUS, 'too many failed attempts, try again later', { 'set-cookie': clearState, ...retryAfterHeader(retryAfter) });
      return;
    }
    const saved = this.#sessions.signer.verify<LoginState>(cookieValue(req.headers.cookie, SSO_STATE_COOKIE), epochSeconds(this.#sessions.clock));
    if (saved.status !== 'valid' || saved.value.service !== this.#service) return deny(403, saved.status === 'expired' ? 'SSO login expired' : 'missing SSO login state');
    const login = saved.value;
    const redirectUri = this.#redirectUri(req, exchange);
    const currentUrl = new URL(`${redirectUri}${(req.url ?? '').slice(CALLBACK_PATH.length)}`);
    if (currentUrl.searchParams.get('state') !== login.state) return deny(403, 'state mismatch');
    let claims: oidc.IDToken;
    try {
      const issuer = await this.#issuer();
      const tokens = await oidc.authorizationCodeGrant(
        issuer,
        currentUrl,
        { pkceCodeVerifier: login.verifier, expectedState: login.state, expectedNonce: login.nonce, idTokenExpected: true },
        { redirect_uri: redirectUri },
      );
      claims = tokens.claims()!;
    } catch (error) {
      const failure = ssoFailure(error);
      if (failure === undefined) throw error;
      if (exchange.done) return;
      return deny(failure.status, failure.reason);
    }
    if (exchange.done) return;
    // An issuer may send an empty claim; the record's fields are absent or non-empty.
    const email = typeof claims.email === 'string' && claims.email.length > 0 ? claims.email : undefined;
    const name = nameOf(claims);
    exchange.userId = claims.sub;
    exchange.userEmail = email;
    exchange.userName = name;
    if (!this.#allowed(claims.sub, email, claims.groups)) return deny(403, 'user not allowed');
    const session = this.#sessions.issue(exchange, { service: this.#service, method: 'sso', user: claims.sub, email, name });
    // The saved path passed this check when the login started; checked again so that every Location
    // built from client input goes through the one rule.
    redirect(res, exchange, 302, safeReturnPath(login.returnTo, requestOrigin(req, exchange)), [session, clearState]);
  }

  #allowed(sub: string, email: string | undefined, groups: unknown): boolean {
    const { allowed_users: users, allowed_groups: allowedGroups } = this.#config;
    if (users.length === 0 && allowedGroups.length === 0) return true;
    if (users.includes(sub) || (email !== undefined && users.includes(email))) return true;
    return Array.isArray(groups) && groups.some((group) => typeof group === 'string' && allowedGroups.includes(group));
  }
}
