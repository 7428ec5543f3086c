// Failed login attempts per source IP and service, counted in fixed windows. A PIN has few
// combinations: without this limit it falls to brute force in minutes. Memory is bounded: expired
// windows are swept, and past MAX_KEYS the oldest keys are dropped.

const MAX_KEYS = 100_000;

interface Window {
  failures: number;
  resetAt: number;
}

export class FailedAttemptLimiter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #windows = new Map<string, Window>();
  #nextSweep = 0;

  constructor(maxFailedAttempts: number, windowSeconds: number) {
    this.#max = maxFailedAttempts;
    this.#windowMs = windowSeconds * 1000;
  }

  static key(service: string, sourceIp: string): string {
    return `${service} ${sourceIp}`;
  }

  isBlocked(key: string, now = Date.now()): boolean {
    const window = this.#windows.get(key);
    return window !== undefined && window.resetAt > now && window.failures >= this.#max;
  }

  recordFailure(key: string, now = Date.now()): void {
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
