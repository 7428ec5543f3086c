// A condition that lasts (a full disk, a blocked cluster) is reported as an incident: one
// diagnostics line when it starts, a reminder at most once a minute while it lasts, one line when
// it ends. Failures are retried many times a second; a line per retry would bury the cause (and,
// where diagnostics share the full disk, make things worse).

import type { Logger } from 'pino';

export const INCIDENT_REMINDER_INTERVAL_MS = 60_000;

export interface IncidentMessages {
  started: string;
  ongoing: string;
  ended: string;
}

type Fields = Record<string, unknown>;

export class Incident {
  readonly #log: Logger;
  readonly #messages: IncidentMessages;
  /** When the incident started; 0 when there is none. */
  #since = 0;
  #lastLine = 0;

  constructor(log: Logger, messages: IncidentMessages) {
    this.#log = log;
    this.#messages = messages;
  }

  get active(): boolean {
    return this.#since !== 0;
  }

  get since(): number {
    return this.#since;
  }

  /** Another failure: the first starts the incident, later ones remind at most once a minute. `fields` is called only when a line is written. */
  failed(fields: () => Fields, now = Date.now()): void {
    if (this.#since === 0) {
      this.#since = this.#lastLine = now;
      this.#log.warn(fields(), this.#messages.started);
    } else if (now - this.#lastLine >= INCIDENT_REMINDER_INTERVAL_MS) {
      this.#lastLine = now;
      this.#log.warn({ ...fields(), failing_for_ms: now - this.#since }, this.#messages.ongoing);
    }
  }

  /** The condition is over: one line with how long it lasted, when there was an incident. */
  recovered(fields: () => Fields, now = Date.now()): void {
    if (this.#since === 0) return;
    this.#log.info({ ...fields(), duration_ms: now - this.#since }, this.#messages.ended);
    this.#since = 0;
  }
}
