// Waiting for a condition instead of sleeping for a guess: every wait has a deadline and, when it
// passes, fails naming what it waited for and the last thing it saw.

import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Calls `probe` until it returns something other than undefined or false, and returns that.
 * A probe that throws counts as not yet (a cluster answering 503 for a moment, a file not yet there).
 */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, options: WaitOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : String(last)})`);
    await sleep(options.intervalMs ?? 20);
  }
}

/** A promise with a deadline: rejects naming `what` when it has not settled in time. */
export async function within<T>(what: string, promise: Promise<T>, timeoutMs = 10_000): Promise<T> {
  const timer = new AbortController();
  const timeout = sleep(timeoutMs, undefined, { signal: timer.signal }).then(() => {
    throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    timer.abort();
  }
}
