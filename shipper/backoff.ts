// Capped exponential backoff with jitter, and a sleep that a shutdown can cut short.

import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryPolicy {
  initial_delay_ms: number;
  max_delay_ms: number;
}

/**
 * Delay before retry number `attempt` (0-based): doubling from the initial delay up to the cap,
 * then a random point in its upper half, so many shippers retrying together spread out.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.max_delay_ms, policy.initial_delay_ms * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal });
}
