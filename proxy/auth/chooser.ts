// A service that allows several methods: one session cookie for whichever method signed the user
// in, Basic credentials on any request, and for a browser with neither a page that lists the
// methods. Each method's own login lives under /.proxy/login/<method>; the chooser routes there.
// The record's auth_method is the method that admitted the request, or the one a denied request
// tried (its expired session, its Basic credentials), or `none` when it tried nothing.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthMethod } from '../../common/access-record.ts';
import type { Exchange } from '../exchange.ts';
import { sendLocal, sendText } from '../respond.ts';
import { basicChallenge, offersBasic, type BasicLogin } from './basic.ts';
import { CALLBACK_PATH, LINK_PATH, LOGIN_PATH, methodLoginPath } from './endpoints.ts';
import { HTML_CONTENT_TYPE, LOGIN_PAGE_POLICY, renderChooserPage, type Choice } from './login-page.ts';
import { requestOrigin, safeReturnPath } from './return-to.ts';
import { commonEndpoint, queryReturnPath, SESSION_REASONS, unknownEndpoint, type ServiceAuth, type SessionFailure, type Sessions } from './service-auth.ts';
import { SSO_SESSION_REASONS } from './sso.ts';

export const AUTHENTICATION_REQUIRED_REASON = 'authentication required';

const LABELS: Record<AuthMethod, string> = {
  none: 'Continue',
  password: 'Password',
  pin: 'PIN',
  sso: 'Single sign-on',
  link: 'E-mail me a sign-in link',
  basic: 'Scripts and API clients: HTTP Basic (username and password on every request)',
};

/** The proxy endpoints that belong to one method wherever they are reached from. */
const METHOD_ENDPOINTS: Readonly<Record<string, AuthMethod>> = { [CALLBACK_PATH]: 'sso', [LINK_PATH]: 'link' };

function acceptsHtml(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').includes('text/html');
}

export class MethodChooser implements ServiceAuth {
  readonly #service: string;
  /** The methods that sign a browser in, in the configured order (Basic is not one: it has no session). */
  readonly #logins: ReadonlyMap<AuthMethod, ServiceAuth>;
  readonly #methods: readonly AuthMethod[];
  readonly #basic: BasicLogin | undefined;
  readonly #sessions: Sessions;

  constructor(service: string, logins: ReadonlyMap<AuthMethod, ServiceAuth>, basic: BasicLogin | undefined, sessions: Sessions) {
    this.#service = service;
    this.#logins = logins;
    this.#methods = [...logins.keys()];
    this.#basic = basic;
    this.#sessions = sessions;
  }

  admit(req: IncomingMessage, res: ServerResponse, exchange: Exchange): boolean | Promise<boolean> {
    if (this.#basic !== undefined && offersBasic(req)) return this.#basic.admit(req, res, exchange);
    if (this.#admitSession(req, exchange)) return true;
    const challenge = this.#basic === undefined ? undefined : basicChallenge(this.#service);
    if (req.method !== 'GET' && req.method !== 'HEAD') sendText(res, exchange, 401, 'login required', challenge);
    // A browser gets the page without a challenge, which would open the browser's own password dialog over it.
    else this.#page(res, exchange, 401, safeReturnPath(req.url, requestOrigin(req, exchange)), acceptsHtml(req) ? undefined : challenge);
    return false;
  }

  admitUpgrade(req: IncomingMessage, exchange: Exchange): boolean | Promise<boolean> {
    if (this.#basic !== undefined && offersBasic(req)) return this.#basic.admitUpgrade(req, exchange);
    return this.#admitSession(req, exchange);
  }

  endpoint(req: IncomingMessage, res: ServerResponse, exchange: Exchange, path: string): void {
    if (path === LOGIN_PATH) {
      exchange.authMethod = 'none';
      this.#page(res, exchange, 200, queryReturnPath(req, exchange));
      return;
    }
    const method = path.startsWith(`${LOGIN_PATH}/`) ? (path.slice(LOGIN_PATH.length + 1) as AuthMethod) : METHOD_ENDPOINTS[path];
    const login = method === undefined ? undefined : this.#logins.get(method);
    if (login !== undefined) {
      exchange.authMethod = method!;
      login.endpoint(req, res, exchange, path === CALLBACK_PATH || path === LINK_PATH ? path : LOGIN_PATH);
      return;
    }
    if (!commonEndpoint(req, res, exchange, path, this.#sessions, this.#service, this.#methods)) unknownEndpoint(res, exchange);
  }

  /** True with a session of one of the service's methods; otherwise sets the method tried and the reason. */
  #admitSession(req: IncomingMessage, exchange: Exchange): boolean {
    const session = this.#sessions.read(req, this.#service, this.#methods);
    if (session.status === 'valid') {
      exchange.authMethod = session.value.method;
      exchange.userId = session.value.user;
      exchange.userEmail = session.value.email;
      exchange.userName = session.value.name;
      return true;
    }
    if (session.status === 'missing') {
      exchange.authMethod = 'none';
      exchange.reason = AUTHENTICATION_REQUIRED_REASON;
      return false;
    }
    exchange.authMethod = 'value' in session ? session.value.method : 'none';
    exchange.reason = this.#sessionReason(exchange.authMethod, session.status);
    return false;
  }

  #sessionReason(method: AuthMethod, status: SessionFailure): string {
    return (method === 'sso' ? SSO_SESSION_REASONS : SESSION_REASONS)[status];
  }

  #page(res: ServerResponse, exchange: Exchange, status: number, returnTo: string, headers?: Record<string, string>): void {
    const query = `?return_to=${encodeURIComponent(returnTo)}`;
    const choices: Choice[] = this.#methods.map((method) => ({ label: LABELS[method], href: `${methodLoginPath(method)}${query}` }));
    if (this.#basic !== undefined) choices.push({ label: LABELS.basic, href: undefined });
    sendLocal(res, exchange, status, HTML_CONTENT_TYPE, renderChooserPage(this.#service, choices), { 'content-security-policy': LOGIN_PAGE_POLICY, ...headers });
  }
}
