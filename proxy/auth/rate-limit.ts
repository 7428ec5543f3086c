// Failed login attempts, limited twice. Per source IP and service, counted in fixed windows: one
// client cannot keep guessing. Per service, across all addresses: many clients together cannot
// either (a 4-digit PIN falls to 100 addresses in minutes otherwise); once the service's budget is
// spent, its secret logins are refused for a cool-down. Both answer how long until they lift, for
// the 429's Retry-After. Memory is bounded: expired windows are swept, and past MAX_KEYS the
// oldest keys are dropped. With workers, the counts are the primary's and a worker's are a replica
// (proxy/shared-auth.ts), which is why a check is split in `admitAttempt` and `settleAttempt`.

import type { Clock } from './clock.ts';

const MAX_KEYS = 100_000;

export const TOO_MANY_ATTEMPTS_REASON = 'too many failed attempts';
export const SERVICE_LOCKED_REASON = 'service locked: too many failed attempts';

/** The Retry-After header every 429 of these limits carries: seconds until the limit lifts. */
export function retryAfterHeader(seconds: number): Record<string, string> {
  return { 'retry-after': String(seconds) };
}

/** One key's count in its fixed window. */
export interface AttemptWindow {
  failures: number;
  resetAt: number;
}

/** A service lockout's figures, as the primary sends them to the workers' replicas (proxy/shared-auth.ts). */
export interface LockoutState {
  charged: number;
  windowEnd: number;
  lockedUntil: number;
}

/** Whole seconds from `now` until `until`, at least 1 (Retry-After has no smaller unit). */
function secondsUntil(until: number, now: number): number {
  return Math.max(1, Math.ceil((until - now) / 1000));
}

export class FailedAttemptLimiter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #clock: Clock;
  readonly #windows = new Map<string, AttemptWindow>();
  #nextSweep = 0;

  constructor(maxFailedAttempts: number, windowSeconds: number, clock: Clock) {
    this.#max = maxFailedAttempts;
    this.#windowMs = windowSeconds * 1000;
    this.#clock = clock;
  }

  static key(service: string, sourceIp: string): string {
    return `${service} ${sourceIp}`;
  }

  /** Seconds until `key` may try again; 0 when it may now. */
  retryAfter(key: string): number {
    const window = this.#windows.get(key);
    const now = this.#clock();
    return window !== undefined && window.resetAt > now && window.failures >= this.#max ? secondsUntil(window.resetAt, now) : 0;
  }

  /** The count of `key`, when it has one. */
  window(key: string): AttemptWindow | undefined {
    return this.#windows.get(key);
  }

  windows(): IterableIterator<[string, AttemptWindow]> {
    return this.#windows.entries();
  }

  /** Takes the count of `key` as another process keeps it. */
  setWindow(key: string, window: AttemptWindow): void {
    this.#windows.delete(key);
    this.#windows.set(key, { ...window });
    if (this.#windows.size > MAX_KEYS) this.#windows.delete(this.#windows.keys().next().value!);
  }

  /**
   * One secret check under this limit and the service's lockout: refused before checking while
   * either is spent; a wrong or missing secret counts against the source's window. `verify`
   * undefined: no secret was given, so nothing is checked and the service's budget is not spent.
   */
  async checkSecret(lockout: ServiceLockout, key: string, verify: (() => Promise<boolean>) | undefined): Promise<LimitedCheck> {
    const refused = admitAttempt(this, lockout, key, verify !== undefined);
    if (refused !== undefined) return refused;
    const valid = verify !== undefined && (await verify());
    settleAttempt(this, lockout, key, verify !== undefined, valid);
    return { outcome: valid ? 'valid' : 'invalid' };
  }

  recordFailure(key: string): void {
    const now = this.#clock();
    this.#sweep(now);
    const window = this.#windows.get(key);
    if (window === undefined || window.resetAt <= now) {
      this.#windows.delete(key);
      this.#windows.set(key, { failures: 1, resetAt: now + this.#windowMs });
      if (this.#windows.size > MAX_KEYS) this.#windows.delete(this.#windows.keys().next().value!);
    } else {
      window.failures++;
    }
  }

  #sweep(now: number): void {
    if (now < this.#nextSweep) return;
    this.#nextSweep = now + this.#windowMs;
    for (const [key, window] of this.#windows) if (window.resetAt <= now) this.#windows.delete(key);
  }
}

/**
 * One service's budget of failed secret logins from all addresses together. An attempt is charged
 * before its secret is checked and refunded if the secret is right, so attempts sent in parallel
 * cannot overdraw the budget while their checks run: at most `max` wrong secrets are checked per
 * window, and after that none for `lockout` — the cool-down that bounds the guessing rate.
 */
export class ServiceLockout {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #lockoutMs: number;
  readonly #clock: Clock;
  #charged = 0;
  #windowEnd = 0;
  #lockedUntil = 0;

  constructor(maxFailedAttempts: number, windowSeconds: number, lockoutSeconds: number, clock: Clock) {
    this.#max = maxFailedAttempts;
    this.#windowMs = windowSeconds * 1000;
    this.#lockoutMs = lockoutSeconds * 1000;
    this.#clock = clock;
  }

  /** Seconds until the service's logins reopen; 0 when open. */
  retryAfter(): number {
    const now = this.#clock();
    return this.#lockedUntil > now ? secondsUntil(this.#lockedUntil, now) : 0;
  }

  /** Charges one attempt against the budget; returns the seconds until it reopens when it is spent, else 0. */
  charge(): number {
    const now = this.#clock();
    if (this.#lockedUntil > now) return secondsUntil(this.#lockedUntil, now);
    if (this.#windowEnd <= now) {
      this.#charged = 0;
      this.#windowEnd = now + this.#windowMs;
    }
    if (this.#charged >= this.#max) return this.#lock(now);
    this.#charged++;
    return 0;
  }

  /** Settles a charged attempt: a right secret gives it back, a wrong one that spends the budget locks the service. */
  settle(succeeded: boolean): void {
    if (succeeded) this.#charged = Math.max(0, this.#charged - 1);
    else if (this.#charged >= this.#max) this.#lock(this.#clock());
  }

  state(): LockoutState {
    return { charged: this.#charged, windowEnd: this.#windowEnd, lockedUntil: this.#lockedUntil };
  }

  /** Takes the figures as another process keeps them. */
  setState(state: LockoutState): void {
    this.#charged = state.charged;
    this.#windowEnd = state.windowEnd;
    this.#lockedUntil = state.lockedUntil;
  }

  #lock(now: number): number {
    this.#lockedUntil = now + this.#lockoutMs;
    this.#charged = 0;
    this.#windowEnd = 0;
    return secondsUntil(this.#lockedUntil, now);
  }
}

export type LimitedCheck = { outcome: 'valid' | 'invalid' } | { outcome: 'refused'; reason: string; retryAfter: number };
export type RefusedCheck = Extract<LimitedCheck, { outcome: 'refused' }>;

/** The first half of a check: the refusal while either limit is spent, else undefined (and the attempt charged when `charge`). */
export function admitAttempt(limiter: FailedAttemptLimiter, lockout: ServiceLockout, key: string, charge: boolean): RefusedCheck | undefined {
  const ipRetryAfter = limiter.retryAfter(key);
  const serviceRetryAfter = lockout.retryAfter();
  if (serviceRetryAfter > 0) return { outcome: 'refused', reason: SERVICE_LOCKED_REASON, retryAfter: Math.max(serviceRetryAfter, ipRetryAfter) };
  if (ipRetryAfter > 0) return { outcome: 'refused', reason: TOO_MANY_ATTEMPTS_REASON, retryAfter: ipRetryAfter };
  const lockedFor = charge ? lockout.charge() : 0;
  if (lockedFor > 0) return { outcome: 'refused', reason: SERVICE_LOCKED_REASON, retryAfter: lockedFor };
  return undefined;
}

/** The second half: the charged attempt settled, a wrong or missing secret counted against the source. */
export function settleAttempt(limiter: FailedAttemptLimiter, lockout: ServiceLockout, key: string, charged: boolean, valid: boolean): void {
  if (charged) lockout.settle(valid);
  if (!valid) limiter.recordFailure(key);
}
