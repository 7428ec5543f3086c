// Magic links: the visitor enters an e-mail address; when the service allows it, the proxy mails a
// single-use link. The form's answer is the same either way (it tells nobody which addresses may
// sign in), and the mail goes out after the answer, so its timing tells nothing either. The link
// works only in the browser that asked: that browser holds a random nonce in a cookie whose hash
// the pending link keeps. Opening it creates a normal session whose user is the address; the
// address reaches the access log only then, once verified.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { TOO_MANY_ATTEMPTS_STATUS } from '../../common/access-record.ts';
import type { AuthConfig } from '../config.ts';
import type { Exchange } from '../exchange.ts';
import { redirect, sendLocal, sendText } from '../respond.ts';
import { LINK_PATH, LOGIN_PATH } from './endpoints.ts';
import { formFailure, readForm } from './form.ts';
import { HTML_CONTENT_TYPE, LOGIN_PAGE_POLICY, renderLinkPage, renderLinkSentPage } from './login-page.ts';
import type { LinkMailer } from './mailer.ts';
import type { PendingLinks } from './pending-links.ts';
import { FailedAttemptLimiter, retryAfterHeader, TOO_MANY_ATTEMPTS_REASON } from './rate-limit.ts';
import { requestOrigin, safeReturnPath } from './return-to.ts';
import { admitOrShowForm, admitUpgradeSession, commonEndpoint, isSecure, queryParam, queryReturnPath, SESSION_REASONS, unknownEndpoint, type ServiceAuth, type Sessions } from './service-auth.ts';
import { clearCookieHeader, cookieValue, LINK_NONCE_COOKIE, setCookieHeader } from './session-cookie.ts';

type LinkConfig = Extract<AuthConfig, { method: 'link' }>;

export const LINK_REASONS = {
  invalid: 'invalid link',
  used: 'link already used',
  expired: 'link expired',
  otherBrowser: 'link opened in another browser',
  badHost: 'Host unusable in a link',
} as const;

const TOKEN_BYTES = 32;
const NONCE = /^[A-Za-z0-9_-]{43}$/;
const MAX_ADDRESS_LENGTH = 254;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The origin to put in a link, or undefined when the Host header would point the link anywhere but the service. */
function linkOrigin(req: IncomingMessage, exchange: Exchange): string | undefined {
  const origin = URL.parse(requestOrigin(req, exchange));
  if (origin === null || origin.username !== '' || origin.password !== '' || origin.pathname !== '/' || origin.search !== '' || origin.hash !== '') return undefined;
  return origin.hostname === exchange.host ? origin.origin : undefined;
}

export class LinkLogin implements ServiceAuth {
  readonly #service: string;
  readonly #config: LinkConfig;
  readonly #sessions: Sessions;
  readonly #limiter: FailedAttemptLimiter;
  readonly #mailer: LinkMailer;
  readonly #diagnostics: Logger;
  readonly #loginPath: string;
  readonly #pending: PendingLinks;

  constructor(service: string, config: LinkConfig, sessions: Sessions, limiter: FailedAttemptLimiter, pending: PendingLinks, mailer: LinkMailer, diagnostics: Logger, loginPath: string = LOGIN_PATH) {
    this.#service = service;
    this.#config = config;
    this.#sessions = sessions;
    this.#limiter = limiter;
    this.#pending = pending;
    this.#mailer = mailer;
    this.#diagnostics = diagnostics;
    this.#loginPath = loginPath;
  }

  admit(req: IncomingMessage, res: ServerResponse, exchange: Exchange): boolean {
    return admitOrShowForm(this.#sessions, req, res, exchange, this.#service, 'link', (returnTo) => this.#form(res, exchange, 401, returnTo));
  }

  admitUpgrade(req: IncomingMessage, exchange: Exchange): boolean {
    return admitUpgradeSession(this.#sessions, req, exchange, this.#service, 'link', SESSION_REASONS);
  }

  endpoint(req: IncomingMessage, res: ServerResponse, exchange: Exchange, path: string): void {
    if (path === LINK_PATH) return this.#open(req, res, exchange);
    if (path !== LOGIN_PATH) {
      if (!commonEndpoint(req, res, exchange, path, this.#sessions, this.#service, ['link'])) unknownEndpoint(res, exchange);
      return;
    }
    if (req.method !== 'POST') return this.#form(res, exchange, 200, queryReturnPath(req, exchange));
    this.#request(req, res, exchange).catch(formFailure(res, exchange, this.#diagnostics));
  }

  #form(res: ServerResponse, exchange: Exchange, status: number, returnTo: string, message?: string, headers?: Record<string, string>): void {
    const page = renderLinkPage({ service: this.#service, action: this.#loginPath, returnTo, message });
    sendLocal(res, exchange, status, HTML_CONTENT_TYPE, page, { 'content-security-policy': LOGIN_PAGE_POLICY, ...headers });
  }

  #allows(address: string): boolean {
    if (address.length > MAX_ADDRESS_LENGTH) return false;
    const at = address.lastIndexOf('@');
    if (at <= 0 || at === address.length - 1) return false;
    return this.#config.allowed_emails.includes(address) || this.#config.allowed_domains.includes(address.slice(at + 1));
  }

  /** A link asked for: counted against the source's window (it bounds the mail one source can cause), answered alike for every address. */
  async #request(req: IncomingMessage, res: ServerResponse, exchange: Exchange): Promise<void> {
    const form = await readForm(req, exchange);
    const returnTo = safeReturnPath(form.get('return_to'), requestOrigin(req, exchange));
    const key = FailedAttemptLimiter.key(this.#service, exchange.sourceIp);
    const retryAfter = this.#limiter.retryAfter(key);
    if (retryAfter > 0) {
      exchange.reason = TOO_MANY_ATTEMPTS_REASON;
      return this.#form(res, exchange, TOO_MANY_ATTEMPTS_STATUS, returnTo, 'Too many sign-in links asked for. Try again later.', retryAfterHeader(retryAfter));
    }
    this.#limiter.recordFailure(key);
    const origin = linkOrigin(req, exchange);
    if (origin === undefined) {
      exchange.reason = LINK_REASONS.badHost;
      return sendText(res, exchange, 400, LINK_REASONS.badHost);
    }
    const given = cookieValue(req.headers.cookie, LINK_NONCE_COOKIE);
    const nonce = given !== undefined && NONCE.test(given) ? given : randomBytes(TOKEN_BYTES).toString('base64url');
    const address = (form.get('email') ?? '').trim().toLowerCase();
    const ttl = this.#config.link_ttl_seconds;
    if (this.#allows(address)) {
      const token = randomBytes(TOKEN_BYTES).toString('base64url');
      this.#pending.remember(sha256(token).toString('base64url'), { email: address, nonceHash: sha256(nonce).toString('base64url'), returnTo, expires: this.#sessions.clock() + ttl * 1000, used: false });
      const url = `${origin}${LINK_PATH}?token=${token}`;
      // Not awaited: the answer must not wait on (and so reveal) the mail.
      this.#mailer
        .send({ to: address, service: this.#service, url, minutes: Math.round(ttl / 60) })
        .catch((error: unknown) => this.#diagnostics.error({ request_id: exchange.id, service: this.#service, err: { name: (error as Error).name, code: (error as { code?: unknown }).code, message: (error as Error).message } }, 'sign-in link not sent'));
    }
    const cookie = setCookieHeader(LINK_NONCE_COOKIE, nonce, LINK_PATH, ttl, isSecure(exchange));
    sendLocal(res, exchange, 200, HTML_CONTENT_TYPE, renderLinkSentPage(this.#service, Math.round(ttl / 60)), { 'content-security-policy': LOGIN_PAGE_POLICY, 'set-cookie': cookie });
  }

  #open(req: IncomingMessage, res: ServerResponse, exchange: Exchange): void {
    const key = FailedAttemptLimiter.key(this.#service, exchange.sourceIp);
    const retryAfter = this.#limiter.retryAfter(key);
    if (retryAfter > 0) {
      exchange.reason = TOO_MANY_ATTEMPTS_REASON;
      return sendText(res, exchange, TOO_MANY_ATTEMPTS_STATUS, 'too many failed attempts, try again later', retryAfterHeader(retryAfter));
    }
    const deny = (reason: string) => {
      this.#limiter.recordFailure(key);
      exchange.reason = reason;
      sendText(res, exchange, 403, `sign-in link refused: ${reason}`);
    };
    const token = queryParam(req, 'token');
    const tokenHash = token ? sha256(token).toString('base64url') : undefined;
    const link = tokenHash === undefined ? undefined : this.#pending.get(tokenHash);
    if (link === undefined) return deny(LINK_REASONS.invalid);
    if (link.used) return deny(LINK_REASONS.used);
    if (link.expires <= this.#sessions.clock()) return deny(LINK_REASONS.expired);
    const nonce = cookieValue(req.headers.cookie, LINK_NONCE_COOKIE);
    if (nonce === undefined || !timingSafeEqual(sha256(nonce), Buffer.from(link.nonceHash, 'base64url'))) return deny(LINK_REASONS.otherBrowser);
    this.#pending.markUsed(tokenHash!);
    exchange.userId = link.email;
    exchange.userEmail = link.email;
    const session = this.#sessions.issue(exchange, { service: this.#service, method: 'link', user: link.email, email: link.email });
    redirect(res, exchange, 303, safeReturnPath(link.returnTo, requestOrigin(req, exchange)), [session, clearCookieHeader(LINK_NONCE_COOKIE, LINK_PATH, isSecure(exchange))]);
  }
}
