// One run of the alerts: the detectors over the lookback before now, and each finding a webhook
// has not received yet sent to it. A finding that could not be delivered stays unrecorded and is
// sent on a later run; one that was is recorded at once, before the next is sent.

import type { Logger } from 'pino';
import type { EventStore } from '../event-store.ts';
import type { InsightsConfig } from '../insights/config.ts';
import { DAY_MS, MINUTE_MS } from '../insights/context.ts';
import { detect } from '../insights/detect.ts';
import type { AlertsConfig } from './config.ts';
import { WebhookDeliveryError } from './errors.ts';
import type { AlertState } from './state.ts';
import { deliver, type Webhook } from './webhook.ts';

export interface PassContext {
  store: EventStore;
  insights: InsightsConfig;
  alerts: AlertsConfig;
  webhooks: readonly Webhook[];
  state: AlertState;
  logger: Logger;
  signal: AbortSignal;
}

export interface PassResult {
  findings: number;
  sent: number;
  failed: number;
}

export async function runPass(context: PassContext, now = Date.now()): Promise<PassResult> {
  const lookback = context.alerts.lookback_minutes * MINUTE_MS;
  const findings = await detect(context.store, context.insights, { start: now - lookback, end: now }, context.signal);
  const result: PassResult = { findings: findings.length, sent: 0, failed: 0 };
  await Promise.all(
    context.webhooks.map(async (webhook) => {
      for (const finding of findings) {
        if (context.state.has(webhook.name, finding.id)) continue;
        try {
          await deliver(webhook, finding, context.alerts, context.signal);
        } catch (error) {
          if (!(error instanceof WebhookDeliveryError)) throw error;
          result.failed++;
          context.logger.warn({ webhook: webhook.name, finding: finding.id, err: error.message }, 'alert not delivered; it is tried again on the next run');
          continue;
        }
        await context.state.add(webhook.name, finding.id, Date.now());
        result.sent++;
      }
    }),
  );
  // A finding lies within the lookback it is found in: a day past it, its record has no use left.
  await context.state.prune(now - lookback - DAY_MS, context.webhooks.map((webhook) => webhook.name));
  return result;
}
