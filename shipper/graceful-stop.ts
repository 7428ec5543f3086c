// A stop in two steps, for the Elasticsearch path and each SIEM output alike: at once, reading and
// waiting end; a grace period later, the delivery in flight is given up (left to the next start).

/** How long a stop waits for the batch in flight before leaving it to the next start. */
export const STOP_GRACE_MS = 10_000;

export class GracefulStop {
  /** Aborted at stop: ends waits that are not delivering anything. */
  readonly #stopped = new AbortController();
  /** Aborted a grace period after stop: gives up on the delivery in flight. */
  readonly #giveUp = new AbortController();
  readonly #onStop: () => void;

  /** `onStop` runs once, at the stop (e.g. to wake the idle reader). */
  constructor(onStop: () => void) {
    this.#onStop = onStop;
  }

  get requested(): boolean {
    return this.#stopped.signal.aborted;
  }

  get waits(): AbortSignal {
    return this.#stopped.signal;
  }

  get delivery(): AbortSignal {
    return this.#giveUp.signal;
  }

  request(): void {
    if (this.requested) return;
    this.#stopped.abort();
    this.#onStop();
    setTimeout(() => this.#giveUp.abort(), STOP_GRACE_MS).unref();
  }
}
