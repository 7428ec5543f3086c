// The running form of each configured service: its upstream pool and its auth method; and the
// routes built from them. A reload builds new routes from a new configuration, keeping every
// service whose configuration did not change (its pool, its lockout, its SSO discovery) and the
// auth state of the whole process (session key, revocations, failed-attempt counts).

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
  /** The configuration as compared across reloads. */
  fingerprint: string;
}

/** What every service shares and a reload keeps: made once per process from the configuration at start. */
export interface AuthState {
  sessions: Sessions;
  limiter: FailedAttemptLimiter;
  limits: ProxyConfig['login_rate_limit'];
  clock: Clock;
  diagnostics: Logger;
}

/** `clock` is replaced only by tests, to move time forward without waiting. */
export function createAuthState(config: ProxyConfig, diagnostics: Logger, clock: Clock = systemClock): AuthState {
  const secretFile = config.sessions.secret_file;
  const revoked = new RevokedSessions(secretFile === undefined ? undefined : revocationsFile(secretFile), clock, diagnostics);
  const sessions = new Sessions(new CookieSigner(loadSigningKey(secretFile)), config.sessions.ttl_seconds, revoked, clock);
  const limits = config.login_rate_limit;
  return { sessions, limiter: new FailedAttemptLimiter(limits.max_failed_attempts, limits.window_seconds, clock), limits, clock, diagnostics };
}

function buildService(service: ServiceConfig, state: AuthState, fingerprint: string): Service {
  const { sessions, limiter, limits, clock, diagnostics } = state;
  const auth = service.auth;
  let handler: ServiceAuth;
  if (auth.method === 'none') handler = new NoAuth(service.id, sessions);
  else if (auth.method === 'sso') handler = new SsoLogin(service.id, auth, sessions, limiter, diagnostics);
  else {
    const lockout = new ServiceLockout(limits.service_max_failed_attempts, limits.service_window_seconds, limits.service_lockout_seconds, clock);
    handler = new SecretLogin(service.id, auth.method, auth.hash, auth.user_id, sessions, limiter, lockout, diagnostics);
  }
  return { id: service.id, authMethod: auth.method, auth: handler, pool: createUpstreamPool(service), config: service, fingerprint };
}

export interface ServiceSet {
  router: Router<Service>;
  services: Service[];
}

/** The services of `config`, reusing those of `previous` whose configuration is unchanged. */
export function buildServices(config: ProxyConfig, state: AuthState, previous: readonly Service[] = []): ServiceSet {
  const kept = new Map(previous.map((service) => [service.id, service]));
  const router = new Router<Service>();
  const services = config.services.map((service): Service => {
    const fingerprint = JSON.stringify(service);
    const old = kept.get(service.id);
    const running = old?.fingerprint === fingerprint ? old : buildService(service, state, fingerprint);
    for (const host of service.hosts) {
      for (const prefix of service.paths) router.add(host, { target: running, prefix, strip: service.strip_prefix }, service.auth.method !== 'none');
    }
    return running;
  });
  return { router, services };
}

export interface ServiceChanges {
  added: string[];
  removed: string[];
  changed: string[];
}

/** Service ids added, removed and changed from one set to the next. */
export function serviceChanges(before: readonly Service[], after: readonly Service[]): ServiceChanges {
  const old = new Map(before.map((service) => [service.id, service]));
  const ids = new Set(after.map((service) => service.id));
  return {
    added: after.filter((service) => !old.has(service.id)).map((service) => service.id),
    removed: before.filter((service) => !ids.has(service.id)).map((service) => service.id),
    changed: after.filter((service) => old.has(service.id) && old.get(service.id) !== service).map((service) => service.id),
  };
}
