// Which findings each webhook already received, kept in a small JSON file replaced atomically
// after every delivery, so a restart (or a crash) never sends an alert twice. Entries are dropped
// once their finding can no longer come back: a finding lies within the lookback it was found in.

import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { replaceFile } from '../../common/replace-file.ts';
import { AlertStateError } from './errors.ts';

const stateSchema = z.object({ version: z.literal(1), alerted: z.record(z.string(), z.record(z.string(), z.number())) }).strict();

export class AlertState {
  readonly #file: string;
  /** Webhook name → finding id → when it was alerted (epoch ms). */
  readonly #alerted: Record<string, Record<string, number>>;
  /** Saves one at a time: two webhooks' deliveries finish side by side, and share one temporary file. */
  #saved: Promise<void> = Promise.resolve();

  private constructor(file: string, alerted: Record<string, Record<string, number>>) {
    this.#file = file;
    this.#alerted = alerted;
  }

  static async load(file: string): Promise<AlertState> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new AlertState(file, {});
      throw new AlertStateError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
    }
    try {
      return new AlertState(file, stateSchema.parse(JSON.parse(text)).alerted);
    } catch (error) {
      throw new AlertStateError(`${file} is not an alerts state file; move it away to start over (findings still in the lookback will alert again)`, { cause: error });
    }
  }

  has(webhook: string, id: string): boolean {
    return this.#alerted[webhook]?.[id] !== undefined;
  }

  async add(webhook: string, id: string, at: number): Promise<void> {
    (this.#alerted[webhook] ??= {})[id] = at;
    await this.#save();
  }

  /** Forgets alerts sent before `cutoff`, and webhooks no longer configured. */
  async prune(cutoff: number, webhooks: readonly string[]): Promise<void> {
    for (const name of Object.keys(this.#alerted)) {
      if (!webhooks.includes(name)) delete this.#alerted[name];
      else for (const [id, at] of Object.entries(this.#alerted[name]!)) if (at < cutoff) delete this.#alerted[name]![id];
    }
    await this.#save();
  }

  #save(): Promise<void> {
    this.#saved = this.#saved.catch(() => undefined).then(() => replaceFile(this.#file, `${JSON.stringify({ version: 1, alerted: this.#alerted })}\n`, 0o600));
    return this.#saved;
  }
}
