// Password and PIN services: a login form posting to the proxy, checked against the configured
// scrypt hash, failed attempts limited per source IP and service and per service across all
// addresses, a signed session on success.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { TOO_MANY_ATTEMPTS_STATUS } from '../../common/access-record.ts';
import type { Exchange } from '../exchange.ts';
import { redirect, sendLocal } from '../respond.ts';
import { verifySecret, type SecretHash } from '../secret-hash.ts';
import { LOGIN_PATH } from './endpoints.ts';
import { formFailure, readForm } from './form.ts';
import { HTML_CONTENT_TYPE, LOGIN_PAGE_POLICY, renderLoginPage } from './login-page.ts';
import { FailedAttemptLimiter, retryAfterHeader, ServiceLockout } from './rate-limit.ts';
import { requestOrigin, safeReturnPath } from './return-to.ts';
import { admitOrShowForm, admitUpgradeSession, commonEndpoint, queryReturnPath, SESSION_REASONS, unknownEndpoint, type ServiceAuth, type Sessions } from './service-auth.ts';

const KINDS = {
  password: { field: 'password', invalid: 'invalid password', missing: 'missing password' },
  pin: { field: 'pin', invalid: 'invalid PIN', missing: 'missing PIN' },
} as const;

const TOO_MANY_ATTEMPTS_MESSAGE = 'Too many failed attempts. Try again later.';

export class SecretLogin implements ServiceAuth {
  readonly #service: string;
  readonly #method: 'password' | 'pin';
  readonly #hash: SecretHash;
  readonly #userId: string | undefined;
  readonly #sessions: Sessions;
  readonly #limiter: FailedAttemptLimiter;
  readonly #lockout: ServiceLockout;
  readonly #diagnostics: Logger;
  readonly #loginPath: string;

  /** `loginPath`: where the form posts (the method's own path when the service has several). */
  constructor(
    service: string,
    method: 'password' | 'pin',
    hash: SecretHash,
    userId: string | undefined,
    sessions: Sessions,
    limiter: FailedAttemptLimiter,
    lockout: ServiceLockout,
    diagnostics: Logger,
    loginPath: string = LOGIN_PATH,
  ) {
    this.#loginPath = loginPath;
    this.#service = service;
    this.#method = method;
    this.#hash = hash;
    this.#userId = userId;
    this.#sessions = sessions;
    this.#limiter = limiter;
    this.#lockout = lockout;
    this.#diagnostics = diagnostics;
  }

  admit(req: IncomingMessage, res: ServerResponse, exchange: Exchange): boolean {
    return admitOrShowForm(this.#sessions, req, res, exchange, this.#service, this.#method, (returnTo) => this.#page(res, exchange, 401, returnTo));
  }

  admitUpgrade(req: IncomingMessage, exchange: Exchange): boolean {
    return admitUpgradeSession(this.#sessions, req, exchange, this.#service, this.#method, SESSION_REASONS);
  }

  endpoint(req: IncomingMessage, res: ServerResponse, exchange: Exchange, path: string): void {
    if (path !== LOGIN_PATH) {
      if (!commonEndpoint(req, res, exchange, path, this.#sessions, this.#service, [this.#method])) unknownEndpoint(res, exchange);
      return;
    }
    if (req.method === 'POST') {
      this.#login(req, res, exchange).catch(formFailure(res, exchange, this.#diagnostics));
      return;
    }
    this.#page(res, exchange, 200, queryReturnPath(req, exchange));
  }

  /** `returnTo` is already a safe return path. */
  #page(res: ServerResponse, exchange: Exchange, status: number, returnTo: string, message?: string, headers?: Record<string, string>): void {
    const page = renderLoginPage({ method: this.#method, service: this.#service, returnTo, message, action: this.#loginPath });
    sendLocal(res, exchange, status, HTML_CONTENT_TYPE, page, { 'content-security-policy': LOGIN_PAGE_POLICY, ...headers });
  }

  #refuse(res: ServerResponse, exchange: Exchange, reason: string, retryAfter: number, returnTo: string): void {
    exchange.reason = reason;
    this.#page(res, exchange, TOO_MANY_ATTEMPTS_STATUS, returnTo, TOO_MANY_ATTEMPTS_MESSAGE, retryAfterHeader(retryAfter));
  }

  async #login(req: IncomingMessage, res: ServerResponse, exchange: Exchange): Promise<void> {
    const kind = KINDS[this.#method];
    const key = FailedAttemptLimiter.key(this.#service, exchange.sourceIp);
    const form = await readForm(req, exchange);
    const returnTo = safeReturnPath(form.get('return_to'), requestOrigin(req, exchange));
    const secret = form.get(kind.field);
    const given = secret !== null && secret.length > 0 && secret.length <= 1024;
    const check = await this.#limiter.checkSecret(this.#lockout, key, given ? () => verifySecret(secret, this.#hash) : undefined);
    if (exchange.done) return;
    if (check.outcome === 'refused') return this.#refuse(res, exchange, check.reason, check.retryAfter, returnTo);
    if (check.outcome === 'invalid') {
      exchange.reason = secret === null || secret.length === 0 ? kind.missing : kind.invalid;
      this.#page(res, exchange, 401, returnTo, `Wrong ${this.#method === 'pin' ? 'PIN' : 'password'}.`);
      return;
    }
    exchange.userId = this.#userId;
    redirect(res, exchange, 303, returnTo, [this.#sessions.issue(exchange, { service: this.#service, method: this.#method, user: this.#userId })]);
  }
}
