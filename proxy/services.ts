// The running form of each configured service: its upstream pool and its auth methods (behind a
// chooser when there are several); and the routes built from them. A reload builds new routes from
// a new configuration, keeping every service whose configuration did not change (its pool, its
// lockout, its SSO discovery, its pending sign-in links) and the auth state of the whole process
// (session key, revocations, failed-attempt counts, the SMTP transport). A changed link service
// starts with no pending links in one process; with workers it keeps the primary's.

import type { Logger } from 'pino';
import type { Pool } from 'undici';
import type { AuthMethod } from '../common/access-record.ts';
import { systemClock, type Clock } from './auth/clock.ts';
import type { PendingLinks } from './auth/pending-links.ts';
import type { FailedAttemptLimiter, ServiceLockout } from './auth/rate-limit.ts';
import { BasicLogin } from './auth/basic.ts';
import { MethodChooser } from './auth/chooser.ts';
import { LinkLogin } from './auth/link.ts';
import { LinkMailer } from './auth/mailer.ts';
import { LOGIN_PATH, methodLoginPath } from './auth/endpoints.ts';
import { SecretLogin } from './auth/secret-login.ts';
import { NoAuth, Sessions, type ServiceAuth } from './auth/service-auth.ts';
import { CookieSigner } from './auth/session-cookie.ts';
import { SsoLogin } from './auth/sso.ts';
import { authMethodConfig, type ProxyConfig, type ServiceConfig } from './config.ts';
import { createUpstreamPool } from './forward.ts';
import { Router } from './routing.ts';
import { localAuthStore, type AuthStore } from './shared-auth.ts';

export interface Service {
  id: string;
  /** The method a request is recorded under before auth decides; `none` for a service with several, whose chooser sets it. */
  authMethod: AuthMethod;
  /** The client's Authorization header carries the proxy's own Basic credentials: kept from the upstream. */
  dropAuthorization: boolean;
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
  /** A new failed-attempt budget for service `id`. */
  lockout(id: string): ServiceLockout;
  /** The sign-in links of service `id`, for a newly built link method. */
  pendingLinks(id: string): PendingLinks;
  /** Sends sign-in links; absent when the configuration has no smtp. */
  mailer: LinkMailer | undefined;
  clock: Clock;
  diagnostics: Logger;
}

/** `clock` is replaced only by tests, to move time forward without waiting; `store` by a worker, whose state its primary keeps. */
export function createAuthState(config: ProxyConfig, diagnostics: Logger, clock: Clock = systemClock, store: AuthStore = localAuthStore(config, diagnostics, clock)): AuthState {
  const sessions = new Sessions(new CookieSigner(store.signingKey), config.sessions.ttl_seconds, store.revoked, clock);
  const mailer = config.smtp === undefined ? undefined : new LinkMailer(config.smtp);
  return { sessions, limiter: store.limiter, lockout: (id) => store.lockout(id), pendingLinks: (id) => store.pendingLinks(id), mailer, clock, diagnostics };
}

function buildService(service: ServiceConfig, state: AuthState, fingerprint: string): Service {
  const { sessions, limiter, mailer, clock, diagnostics } = state;
  // One budget per service, shared by its password, PIN and Basic logins.
  const lockout = state.lockout(service.id);
  const several = service.auth.length > 1;
  // Where a method's form posts: its own path when a chooser stands in front of it.
  const loginPathOf = (method: AuthMethod) => (several ? methodLoginPath(method) : LOGIN_PATH);
  const handlers = new Map<AuthMethod, ServiceAuth>();
  let basic: BasicLogin | undefined;
  for (const auth of service.auth) {
    if (auth.method === 'none') handlers.set('none', new NoAuth(service.id, sessions));
    else if (auth.method === 'sso') handlers.set('sso', new SsoLogin(service.id, auth, sessions, limiter, diagnostics));
    else if (auth.method === 'basic') basic = new BasicLogin(service.id, auth, limiter, lockout, clock, diagnostics);
    else if (auth.method === 'link') {
      // The SMTP transport is made at start (smtp is not reloaded).
      if (mailer === undefined) throw new Error(`service "${service.id}" uses the link method, but the proxy started without smtp: restart it`);
      handlers.set('link', new LinkLogin(service.id, auth, sessions, limiter, state.pendingLinks(service.id), mailer, diagnostics, loginPathOf(auth.method)));
    } else handlers.set(auth.method, new SecretLogin(service.id, auth.method, auth.hash, auth.user_id, sessions, limiter, lockout, diagnostics, loginPathOf(auth.method)));
  }
  const only = service.auth[0]!.method;
  const handler = several ? new MethodChooser(service.id, handlers, basic, sessions) : (basic ?? handlers.get(only)!);
  const dropAuthorization = basic !== undefined && authMethodConfig(service, 'basic')?.forward_authorization !== true;
  return { id: service.id, authMethod: several ? 'none' : only, dropAuthorization, auth: handler, pool: createUpstreamPool(service), config: service, fingerprint };
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
    const signsIn = service.auth.some((auth) => auth.method !== 'none');
    for (const host of service.hosts) {
      for (const prefix of service.paths) router.add(host, { target: running, prefix, strip: service.strip_prefix }, signsIn);
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
