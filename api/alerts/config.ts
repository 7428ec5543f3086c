// The `alerts` block of the API's configuration: where new findings are POSTed, how often the
// detectors run, and where the record of what was already sent is kept.

import { z } from 'zod';

export const alertsConfigSchema = z
  .object({
    /** Seconds between two runs of the detectors. */
    interval_seconds: z.number().int().min(1).max(86_400).default(60),
    /** Each run analyses this many minutes before now. */
    lookback_minutes: z.number().int().min(1).max(7 * 1_440).default(60),
    /** The ids already alerted, per webhook (relative to the configuration file's folder). */
    state_file: z.string().min(1),
    webhooks: z
      .array(
        z
          .object({
            name: z.string().min(1),
            url: z.string().refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), 'must be an http or https URL'),
            /** A file holding the HMAC-SHA256 secret the body is signed with. */
            secret_file: z.string().min(1),
          })
          .strict(),
      )
      .min(1, 'must list at least one webhook')
      .refine((hooks) => new Set(hooks.map((hook) => hook.name)).size === hooks.length, 'webhook names must be unique'),
    /** Attempts per delivery, the first included. */
    attempts: z.number().int().min(1).max(20).default(5),
    /** Wait before the second attempt; each later one waits twice as long. */
    backoff_ms: z.number().int().min(1).max(60_000).default(1_000),
  })
  .strict();

export type AlertsConfig = z.output<typeof alertsConfigSchema>;
