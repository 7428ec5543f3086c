// Sign-in links sent and not yet expired, by the SHA-256 of their token: one map per link service.
// A used link stays until it expires, to say so. At most MAX_PENDING; the oldest go first. With
// workers, every worker holds every link (proxy/shared-auth.ts): the link may be opened on a
// connection another worker serves.

import type { Clock } from './clock.ts';

const MAX_PENDING = 10_000;

export interface PendingLink {
  email: string;
  /** SHA-256 of the nonce in the browser's `proxy_link` cookie, base64url. */
  nonceHash: string;
  returnTo: string;
  /** Milliseconds since the epoch. */
  expires: number;
  used: boolean;
}

export class PendingLinks {
  readonly #links = new Map<string, PendingLink>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  remember(tokenHash: string, link: PendingLink): void {
    const now = this.#clock();
    for (const [hash, pending] of this.#links) if (pending.expires <= now) this.#links.delete(hash);
    this.#links.set(tokenHash, link);
    if (this.#links.size > MAX_PENDING) this.#links.delete(this.#links.keys().next().value!);
  }

  get(tokenHash: string): PendingLink | undefined {
    return this.#links.get(tokenHash);
  }

  markUsed(tokenHash: string): void {
    const link = this.#links.get(tokenHash);
    if (link !== undefined) link.used = true;
  }

  entries(): IterableIterator<[string, PendingLink]> {
    return this.#links.entries();
  }
}
