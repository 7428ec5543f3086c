// The running form of each configured service: its upstream pool and its auth methods (behind a
// chooser when there are several).

import type { Logger } from 'pino';
import type { Pool } from 'undici';
import type { AuthMethod } from '../common/access-record.ts';
import { systemClock, type Clock } from './auth/clock.ts';
import { FailedAttemptLimiter, ServiceLockout } from './auth/rate-limit.ts';
import { RevokedSessions, revocationsFile } from './auth/revocations.ts';
import { BasicLogin } from './auth/basic.ts';
import { MethodChooser } from './auth/chooser.ts';
import { LinkLogin } from './auth/link.ts';
import { LinkMailer } from './auth/mailer.ts';
import { LOGIN_PATH, methodLoginPath } from './auth/endpoints.ts';
import { SecretLogin } from './auth/secret-login.ts';
import { NoAuth, Sessions, type ServiceAuth } from './auth/service-auth.ts';
import { CookieSigner, loadSigningKey } from './auth/session-cookie.ts';
import { SsoLogin } from './auth/sso.ts';
import { authMethodConfig, type ProxyConfig, type ServiceConfig } from './config.ts';
import { createUpstreamPool } from './forward.ts';
import { Router } from './routing.ts';

export interface Service {
  id: string;
  /** The method a request is recorded under before auth decides; `none` for a service with several, whose chooser sets it. */
  authMethod: AuthMethod;
  /** The client's Authorization header carries the proxy's own Basic credentials: kept from the upstream. */
  dropAuthorization: boolean;
  auth: ServiceAuth;
  pool: Pool;
  config: ServiceConfig;
}

/** `clock` is replaced only by tests, to move time forward without waiting. */
export function buildServices(config: ProxyConfig, diagnostics: Logger, clock: Clock = systemClock): { router: Router<Service>; services: Service[] } {
  const secretFile = config.sessions.secret_file;
  const revoked = new RevokedSessions(secretFile === undefined ? undefined : revocationsFile(secretFile), clock, diagnostics);
  const sessions = new Sessions(new CookieSigner(loadSigningKey(secretFile)), config.sessions.ttl_seconds, revoked, clock);
  const limits = config.login_rate_limit;
  const limiter = new FailedAttemptLimiter(limits.max_failed_attempts, limits.window_seconds, clock);
  const mailer = config.smtp === undefined ? undefined : new LinkMailer(config.smtp);
  const router = new Router<Service>();
  const services = config.services.map((service): Service => {
    // One budget per service, shared by its password, PIN and Basic logins.
    const lockout = new ServiceLockout(limits.service_max_failed_attempts, limits.service_window_seconds, limits.service_lockout_seconds, clock);
    const several = service.auth.length > 1;
    // Where a method's form posts: its own path when a chooser stands in front of it.
    const loginPathOf = (method: AuthMethod) => (several ? methodLoginPath(method) : LOGIN_PATH);
    const handlers = new Map<AuthMethod, ServiceAuth>();
    let basic: BasicLogin | undefined;
    for (const auth of service.auth) {
      if (auth.method === 'none') handlers.set('none', new NoAuth(service.id, sessions));
      else if (auth.method === 'sso') handlers.set('sso', new SsoLogin(service.id, auth, sessions, limiter, diagnostics));
      else if (auth.method === 'basic') basic = new BasicLogin(service.id, auth, limiter, lockout, clock, diagnostics);
      else if (auth.method === 'link') handlers.set('link', new LinkLogin(service.id, auth, sessions, limiter, mailer!, diagnostics, loginPathOf(auth.method)));
      else handlers.set(auth.method, new SecretLogin(service.id, auth.method, auth.hash, auth.user_id, sessions, limiter, lockout, diagnostics, loginPathOf(auth.method)));
    }
    const only = service.auth[0]!.method;
    const handler = several ? new MethodChooser(service.id, handlers, basic, sessions) : (basic ?? handlers.get(only)!);
    const dropAuthorization = basic !== undefined && authMethodConfig(service, 'basic')?.forward_authorization !== true;
    const running: Service = { id: service.id, authMethod: several ? 'none' : only, dropAuthorization, auth: handler, pool: createUpstreamPool(service), config: service };
    router.add(service.hosts, running);
    return running;
  });
  return { router, services };
}
