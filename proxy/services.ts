// The running form of each configured service: its upstream pool and its auth method.

import type { Logger } from 'pino';
import type { Pool } from 'undici';
import type { AuthMethod } from '../common/access-record.ts';
import { systemClock, type Clock } from './auth/clock.ts';
import { FailedAttemptLimiter, ServiceLockout } from './auth/rate-limit.ts';
import { RevokedSessions, revocationsFile } from './auth/revocations.ts';
import { SecretLogin } from './auth/secret-login.ts';
import { NoAuth, Sessions, type ServiceAuth } from './auth/service-auth.ts';
import { CookieSigner, loadSigningKey } from './auth/session-cookie.ts';
import { SsoLogin } from './auth/sso.ts';
import type { ProxyConfig, ServiceConfig } from './config.ts';
import { createUpstreamPool } from './forward.ts';
import { Router } from './routing.ts';

export interface Service {
  id: string;
  authMethod: AuthMethod;
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
  const router = new Router<Service>();
  const services = config.services.map((service): Service => {
    const auth = service.auth;
    let handler: ServiceAuth;
    if (auth.method === 'none') handler = new NoAuth(service.id, sessions);
    else if (auth.method === 'sso') handler = new SsoLogin(service.id, auth, sessions, limiter, diagnostics);
    else {
      const lockout = new ServiceLockout(limits.service_max_failed_attempts, limits.service_window_seconds, limits.service_lockout_seconds, clock);
      handler = new SecretLogin(service.id, auth.method, auth.hash, auth.user_id, sessions, limiter, lockout, diagnostics);
    }
    const running: Service = { id: service.id, authMethod: auth.method, auth: handler, pool: createUpstreamPool(service), config: service };
    for (const host of service.hosts) {
      for (const prefix of service.paths) router.add(host, { target: running, prefix, strip: service.strip_prefix }, auth.method !== 'none');
    }
    return running;
  });
  return { router, services };
}
