// Sessions ended by logout before their time. Kept in memory for the per-request check and, when
// the signing key lives in a file, in a small state file beside it (`<secret_file>.revoked`), so a
// restart does not bring logged-out sessions back. The file is replaced atomically
// (common/replace-file.ts). It stays small: an entry is needed only while the session it revokes
// could still be presented, so it is dropped at that session's expiry — on every write and at load.

import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { z } from 'zod';
import { replaceFile } from '../../common/replace-file.ts';
import { RevocationsFileError } from '../errors.ts';
import { epochSeconds, type Clock } from './clock.ts';

export const REVOCATIONS_FILE_SUFFIX = '.revoked';

/** Session id → the session's expiry (seconds since the epoch). */
const fileSchema = z.record(z.string().min(1), z.number().int());

export function revocationsFile(secretFile: string): string {
  return `${secretFile}${REVOCATIONS_FILE_SUFFIX}`;
}

function readEntries(file: string): Record<string, number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new RevocationsFileError(`cannot read revoked sessions from ${file}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new RevocationsFileError(`revoked sessions file ${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) throw new RevocationsFileError(`revoked sessions file ${file} is not an object of session ids and expiry times`);
  return parsed.data;
}

export class RevokedSessions {
  readonly #file: string | undefined;
  readonly #clock: Clock;
  readonly #diagnostics: Logger;
  readonly #expiries = new Map<string, number>();
  /** Writes run one after another, each saving the whole current set. */
  #writes: Promise<void> = Promise.resolve();

  /** `file` undefined: memory only (the signing key is random per start, so no session outlives the process anyway). */
  constructor(file: string | undefined, clock: Clock, diagnostics: Logger) {
    this.#file = file;
    this.#clock = clock;
    this.#diagnostics = diagnostics;
    if (file === undefined) return;
    for (const [sid, expiry] of Object.entries(readEntries(file))) this.#expiries.set(sid, expiry);
    this.#prune();
  }

  has(sid: string): boolean {
    return this.#expiries.has(sid);
  }

  /** Session id and expiry of each revocation. */
  entries(): IterableIterator<[string, number]> {
    return this.#expiries.entries();
  }

  get size(): number {
    return this.#expiries.size;
  }

  /** Revokes `sid` at once; resolves when the revocation is on disk (a failed write is logged, the revocation still holds in memory). */
  revoke(sid: string, expiry: number): Promise<void> {
    this.#expiries.set(sid, expiry);
    this.#prune();
    const file = this.#file;
    if (file === undefined) return Promise.resolve();
    this.#writes = this.#writes
      .then(() => replaceFile(file, JSON.stringify(Object.fromEntries(this.#expiries)), 0o600))
      .catch((error: unknown) => this.#diagnostics.error({ err: error, file }, 'revoked sessions not saved'));
    return this.#writes;
  }

  #prune(): void {
    const now = epochSeconds(this.#clock);
    for (const [sid, expiry] of this.#expiries) if (expiry <= now) this.#expiries.delete(sid);
  }
}
