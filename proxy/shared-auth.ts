// The auth state the workers of one proxy share (proxy/workers.ts): the session signing key, the
// revoked sessions and the failed-attempt counts. The primary keeps the one true copy; each worker
// keeps a replica that its requests read without waiting, and changes it only through the primary.
// - A secret check (password, PIN, Basic credentials not remembered) asks the primary before and
//   after the hash check, so a service's budget and a source's window are counted once across
//   workers: the check costs two IPC round trips, small beside the scrypt hash it guards.
// - A failure counted outside a secret check (a sign-in link asked for, an SSO callback refused) is
//   sent without waiting: the other workers see it one IPC hop later.
// - A sign-in link sent, or used, is sent to the primary and from it to every worker, so the link
//   opens on whichever worker its connection reaches (a second use at another worker within that
//   one message is possible; it needs the browser's nonce cookie as much as the first).
// - A logout's revocation is sent to the primary, which saves it, sends it to every worker and
//   only then answers, so the logout is answered after every worker was sent the revocation.
// Every change comes back to every worker as the primary's figures, which replace the replica's.

import type { Logger } from 'pino';
import { systemClock, type Clock } from './auth/clock.ts';
import { admitAttempt, FailedAttemptLimiter, ServiceLockout, settleAttempt, type AttemptWindow, type LimitedCheck, type LockoutState, type RefusedCheck } from './auth/rate-limit.ts';
import { PendingLinks, type PendingLink } from './auth/pending-links.ts';
import { RevokedSessions, revocationsFile } from './auth/revocations.ts';
import { loadSigningKey } from './auth/session-cookie.ts';
import type { ProxyConfig } from './config.ts';

/** What the auth of one process is made from: a worker's replica (SharedAuthReplica) or the process's own state. */
export interface AuthStore {
  signingKey: Buffer;
  revoked: RevokedSessions;
  limiter: FailedAttemptLimiter;
  /** The failed-attempt budget of service `id`, made when a service is built. */
  lockout(id: string): ServiceLockout;
  /** The sign-in links of link service `id`, made when it is built. */
  pendingLinks(id: string): PendingLinks;
}

/** One process's own state, as a proxy without workers keeps it: a reload that changes a service gives it a fresh budget. */
export function localAuthStore(config: ProxyConfig, diagnostics: Logger, clock: Clock = systemClock): AuthStore {
  const secretFile = config.sessions.secret_file;
  const limits = config.login_rate_limit;
  return {
    signingKey: loadSigningKey(secretFile),
    revoked: new RevokedSessions(secretFile === undefined ? undefined : revocationsFile(secretFile), clock, diagnostics),
    limiter: new FailedAttemptLimiter(limits.max_failed_attempts, limits.window_seconds, clock),
    lockout: () => new ServiceLockout(limits.service_max_failed_attempts, limits.service_window_seconds, limits.service_lockout_seconds, clock),
    pendingLinks: () => new PendingLinks(clock),
  };
}

/** Messages a worker sends the primary about auth. */
export type AuthRequest =
  | { type: 'auth:attempt'; id: number; service: string; key: string; charge: boolean }
  | { type: 'auth:settle'; id: number; service: string; key: string; charged: boolean; valid: boolean }
  | { type: 'auth:failure'; key: string }
  | { type: 'auth:revoke'; id: number; sid: string; expiry: number }
  | { type: 'auth:link'; service: string; tokenHash: string; link: PendingLink }
  | { type: 'auth:link-used'; service: string; tokenHash: string };

/** Messages the primary sends a worker about auth. */
export type AuthUpdate =
  | {
      type: 'auth:snapshot';
      signingKey: string;
      revoked: Array<[string, number]>;
      windows: Array<[string, AttemptWindow]>;
      lockouts: Array<[string, LockoutState]>;
      links: Array<[string, Array<[string, PendingLink]>]>;
    }
  | { type: 'auth:reply'; id: number; refused?: RefusedCheck }
  | { type: 'auth:window'; key: string; window: AttemptWindow }
  | { type: 'auth:lockout'; service: string; state: LockoutState }
  | { type: 'auth:revoked'; sid: string; expiry: number }
  | Extract<AuthRequest, { type: 'auth:link' | 'auth:link-used' }>;

export function isAuthRequest(message: unknown): message is AuthRequest {
  const type = (message as { type?: unknown } | null)?.type;
  return typeof type === 'string' && type.startsWith('auth:');
}

/** The primary's copy, and what it answers a worker. */
export class SharedAuthKeeper {
  readonly #limits: ProxyConfig['login_rate_limit'];
  readonly #signingKey: Buffer;
  readonly #revoked: RevokedSessions;
  readonly #limiter: FailedAttemptLimiter;
  readonly #lockouts = new Map<string, ServiceLockout>();
  readonly #links = new Map<string, PendingLinks>();
  /** Sends a message to every worker. */
  readonly #broadcast: (message: AuthUpdate) => void;

  constructor(config: ProxyConfig, diagnostics: Logger, broadcast: (message: AuthUpdate) => void) {
    const own = localAuthStore(config, diagnostics);
    this.#limits = config.login_rate_limit;
    this.#signingKey = own.signingKey;
    this.#revoked = own.revoked;
    this.#limiter = own.limiter;
    this.#broadcast = broadcast;
  }

  snapshot(): AuthUpdate {
    return {
      type: 'auth:snapshot',
      signingKey: this.#signingKey.toString('base64'),
      revoked: [...this.#revoked.entries()],
      windows: [...this.#limiter.windows()],
      lockouts: [...this.#lockouts].map(([service, lockout]) => [service, lockout.state()]),
      links: [...this.#links].map(([service, links]) => [service, [...links.entries()]]),
    };
  }

  /** Handles a worker's request; `reply` answers that worker only. */
  async handle(request: AuthRequest, reply: (message: AuthUpdate) => void): Promise<void> {
    switch (request.type) {
      case 'auth:attempt': {
        const lockout = this.#lockout(request.service);
        const refused = admitAttempt(this.#limiter, lockout, request.key, request.charge);
        if (request.charge) this.#broadcast({ type: 'auth:lockout', service: request.service, state: lockout.state() });
        reply(refused === undefined ? { type: 'auth:reply', id: request.id } : { type: 'auth:reply', id: request.id, refused });
        return;
      }
      case 'auth:settle': {
        const lockout = this.#lockout(request.service);
        settleAttempt(this.#limiter, lockout, request.key, request.charged, request.valid);
        if (request.charged) this.#broadcast({ type: 'auth:lockout', service: request.service, state: lockout.state() });
        if (!request.valid) this.#sendWindow(request.key);
        reply({ type: 'auth:reply', id: request.id });
        return;
      }
      case 'auth:failure':
        this.#limiter.recordFailure(request.key);
        this.#sendWindow(request.key);
        return;
      case 'auth:link':
        this.#linksOf(request.service).remember(request.tokenHash, request.link);
        this.#broadcast(request);
        return;
      case 'auth:link-used':
        this.#linksOf(request.service).markUsed(request.tokenHash);
        this.#broadcast(request);
        return;
      case 'auth:revoke':
        this.#broadcast({ type: 'auth:revoked', sid: request.sid, expiry: request.expiry });
        await this.#revoked.revoke(request.sid, request.expiry);
        reply({ type: 'auth:reply', id: request.id });
    }
  }

  #sendWindow(key: string): void {
    const window = this.#limiter.window(key);
    if (window !== undefined) this.#broadcast({ type: 'auth:window', key, window });
  }

  #linksOf(service: string): PendingLinks {
    let links = this.#links.get(service);
    if (links === undefined) {
      links = new PendingLinks(systemClock);
      this.#links.set(service, links);
    }
    return links;
  }

  /** One budget per service id for the primary's lifetime: a reload does not hand out a fresh one. */
  #lockout(service: string): ServiceLockout {
    let lockout = this.#lockouts.get(service);
    if (lockout === undefined) {
      const limits = this.#limits;
      lockout = new ServiceLockout(limits.service_max_failed_attempts, limits.service_window_seconds, limits.service_lockout_seconds, systemClock);
      this.#lockouts.set(service, lockout);
    }
    return lockout;
  }
}

/** Sends a request to the primary and waits for its reply. */
type Ask = (request: AuthRequest) => Promise<Extract<AuthUpdate, { type: 'auth:reply' }>>;

class ReplicaLimiter extends FailedAttemptLimiter {
  readonly #ask: Ask;
  readonly #tell: (request: AuthRequest) => void;

  constructor(limits: ProxyConfig['login_rate_limit'], ask: Ask, tell: (request: AuthRequest) => void) {
    super(limits.max_failed_attempts, limits.window_seconds, systemClock);
    this.#ask = ask;
    this.#tell = tell;
  }

  override async checkSecret(lockout: ServiceLockout, key: string, verify: (() => Promise<boolean>) | undefined): Promise<LimitedCheck> {
    const service = (lockout as ReplicaLockout).service;
    const charge = verify !== undefined;
    const { refused } = await this.#ask({ type: 'auth:attempt', id: 0, service, key, charge });
    if (refused !== undefined) return refused;
    const valid = charge && (await verify());
    await this.#ask({ type: 'auth:settle', id: 0, service, key, charged: charge, valid });
    return { outcome: valid ? 'valid' : 'invalid' };
  }

  override recordFailure(key: string): void {
    super.recordFailure(key);
    this.#tell({ type: 'auth:failure', key });
  }
}

class ReplicaLockout extends ServiceLockout {
  readonly service: string;

  constructor(service: string, limits: ProxyConfig['login_rate_limit']) {
    super(limits.service_max_failed_attempts, limits.service_window_seconds, limits.service_lockout_seconds, systemClock);
    this.service = service;
  }
}

class ReplicaRevocations extends RevokedSessions {
  readonly #ask: Ask;

  constructor(diagnostics: Logger, ask: Ask) {
    super(undefined, systemClock, diagnostics);
    this.#ask = ask;
  }

  /** Refused at once here; resolves when the primary has saved it and sent it to every worker. */
  override async revoke(sid: string, expiry: number): Promise<void> {
    await super.revoke(sid, expiry);
    await this.#ask({ type: 'auth:revoke', id: 0, sid, expiry });
  }

  /** Takes a revocation the primary sent. */
  take(sid: string, expiry: number): void {
    void super.revoke(sid, expiry);
  }
}

/** A link sent or used here is sent to the primary, which passes it to every worker. */
class ReplicaLinks extends PendingLinks {
  readonly #service: string;
  readonly #tell: (request: AuthRequest) => void;

  constructor(service: string, tell: (request: AuthRequest) => void) {
    super(systemClock);
    this.#service = service;
    this.#tell = tell;
  }

  override remember(tokenHash: string, link: PendingLink): void {
    super.remember(tokenHash, link);
    this.#tell({ type: 'auth:link', service: this.#service, tokenHash, link });
  }

  override markUsed(tokenHash: string): void {
    super.markUsed(tokenHash);
    this.#tell({ type: 'auth:link-used', service: this.#service, tokenHash });
  }

  /** Takes what the primary sent. */
  take(update: Extract<AuthUpdate, { type: 'auth:link' | 'auth:link-used' }>): void {
    if (update.type === 'auth:link') super.remember(update.tokenHash, { ...update.link });
    else super.markUsed(update.tokenHash);
  }
}

/** A worker's replica: made from the primary's snapshot, kept current by its updates (`apply`). */
export class SharedAuthReplica implements AuthStore {
  readonly signingKey: Buffer;
  readonly revoked: ReplicaRevocations;
  readonly limiter: ReplicaLimiter;
  readonly #limits: ProxyConfig['login_rate_limit'];
  /** The lockout of each service id as last built: a reload's new one takes the primary's figures too. */
  readonly #lockouts = new Map<string, ReplicaLockout>();
  readonly #lockoutStates = new Map<string, LockoutState>();
  /** Each link service's links: a reload's new method gets the same ones. */
  readonly #links = new Map<string, ReplicaLinks>();
  readonly #send: (request: AuthRequest) => void;
  readonly #waiting = new Map<number, (reply: Extract<AuthUpdate, { type: 'auth:reply' }>) => void>();
  #nextId = 1;

  constructor(config: ProxyConfig, snapshot: Extract<AuthUpdate, { type: 'auth:snapshot' }>, send: (request: AuthRequest) => void, diagnostics: Logger) {
    this.#limits = config.login_rate_limit;
    this.#send = send;
    const ask: Ask = (request) =>
      new Promise((resolve) => {
        const id = this.#nextId++;
        this.#waiting.set(id, resolve);
        send({ ...request, id } as AuthRequest);
      });
    this.signingKey = Buffer.from(snapshot.signingKey, 'base64');
    this.revoked = new ReplicaRevocations(diagnostics, ask);
    this.limiter = new ReplicaLimiter(this.#limits, ask, send);
    for (const [sid, expiry] of snapshot.revoked) this.revoked.take(sid, expiry);
    for (const [key, window] of snapshot.windows) this.limiter.setWindow(key, window);
    for (const [service, state] of snapshot.lockouts) this.#lockoutStates.set(service, state);
    for (const [service, links] of snapshot.links) for (const [tokenHash, link] of links) this.#linksOf(service).take({ type: 'auth:link', service, tokenHash, link });
  }

  pendingLinks(id: string): PendingLinks {
    return this.#linksOf(id);
  }

  #linksOf(service: string): ReplicaLinks {
    let links = this.#links.get(service);
    if (links === undefined) {
      links = new ReplicaLinks(service, this.#send);
      this.#links.set(service, links);
    }
    return links;
  }

  lockout(id: string): ServiceLockout {
    const lockout = new ReplicaLockout(id, this.#limits);
    const state = this.#lockoutStates.get(id);
    if (state !== undefined) lockout.setState(state);
    this.#lockouts.set(id, lockout);
    return lockout;
  }

  apply(update: AuthUpdate): void {
    switch (update.type) {
      case 'auth:reply': {
        const resolve = this.#waiting.get(update.id);
        this.#waiting.delete(update.id);
        resolve?.(update);
        return;
      }
      case 'auth:window':
        this.limiter.setWindow(update.key, update.window);
        return;
      case 'auth:lockout':
        this.#lockoutStates.set(update.service, update.state);
        this.#lockouts.get(update.service)?.setState(update.state);
        return;
      case 'auth:revoked':
        this.revoked.take(update.sid, update.expiry);
        return;
      case 'auth:link':
      case 'auth:link-used':
        this.#linksOf(update.service).take(update);
        return;
      case 'auth:snapshot':
        return;
    }
  }
}
