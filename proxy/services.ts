// The running form of each configured service: its upstream pool and its auth method.

import type { Logger } from 'pino';
import type { Pool } from 'undici';
import type { AuthMethod } from '../common/access-record.ts';
import { FailedAttemptLimiter } from './auth/rate-limit.ts';
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

export function buildServices(config: ProxyConfig, diagnostics: Logger): { router: Router<Service>; services: Service[] } {
  const sessions = new Sessions(new CookieSigner(loadSigningKey(config.sessions.secret_file)), config.sessions.ttl_seconds);
  const limiter = new FailedAttemptLimiter(config.login_rate_limit.max_failed_attempts, config.login_rate_limit.window_seconds);
  const router = new Router<Service>();
  const services = config.services.map((service): Service => {
    const auth = service.auth;
    let handler: ServiceAuth;
    if (auth.method === 'none') handler = new NoAuth();
    else if (auth.method === 'sso') handler = new SsoLogin(service.id, auth, sessions, limiter, diagnostics);
    else handler = new SecretLogin(service.id, auth.method, auth.hash, auth.user_id, sessions, limiter, diagnostics);
    const running: Service = { id: service.id, authMethod: auth.method, auth: handler, pool: createUpstreamPool(service), config: service };
    router.add(service.hosts, running);
    return running;
  });
  return { router, services };
}
