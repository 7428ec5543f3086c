// One alert to one webhook: a signed JSON POST, tried again with exponential backoff when the
// receiver is unreachable or answers 429 or 5xx. Any other answer is final: trying again would get
// the same one.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Finding } from '../insights/finding.ts';
import { WebhookDeliveryError } from './errors.ts';
import { SIGNATURE_HEADER, sign } from './signature.ts';

export interface Webhook {
  name: string;
  url: string;
  secret: string;
}

export interface RetryPolicy {
  attempts: number;
  backoff_ms: number;
}

/** A receiver that does not answer within this long counts as a failed attempt. */
const ATTEMPT_TIMEOUT_MS = 10_000;

function retryable(status: number): boolean {
  return status === 429 || status >= 500;
}

export async function deliver(webhook: Webhook, finding: Finding, policy: RetryPolicy, signal: AbortSignal): Promise<void> {
  const body = JSON.stringify({ finding });
  const headers = { 'content-type': 'application/json', [SIGNATURE_HEADER]: sign(webhook.secret, body) };
  let failure = '';
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    if (attempt > 1) await sleep(policy.backoff_ms * 2 ** (attempt - 2), undefined, { signal });
    try {
      const response = await fetch(webhook.url, { method: 'POST', headers, body, signal: AbortSignal.any([signal, AbortSignal.timeout(ATTEMPT_TIMEOUT_MS)]) });
      await response.body?.cancel();
      if (response.ok) return;
      failure = `answered ${response.status}`;
      if (!retryable(response.status)) break;
    } catch (error) {
      if (signal.aborted) throw error;
      failure = (error as Error).message;
    }
  }
  throw new WebhookDeliveryError(webhook.name, failure);
}
