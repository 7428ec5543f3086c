// The alerts process's own errors (codes listed in common/errors.ts).

import { ProxyAccessLogError } from '../../common/errors.ts';

/** The file of alerts already sent cannot be read or is not what this process writes. */
export class AlertStateError extends ProxyAccessLogError {
  readonly code = 'ALERTS_STATE_INVALID';
}

/** A webhook did not take an alert after every attempt; the alert is tried again on the next run. */
export class WebhookDeliveryError extends ProxyAccessLogError {
  readonly code = 'ALERTS_WEBHOOK_FAILED';
  readonly webhook: string;
  constructor(webhook: string, failure: string) {
    super(`webhook ${webhook}: ${failure}`);
    this.webhook = webhook;
  }
}
