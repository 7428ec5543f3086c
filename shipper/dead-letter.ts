// The dead-letter file: one NDJSON entry per line that can never be indexed, with the line, where
// it came from and why. Entries are appended and fsynced before the checkpoint moves past their
// lines, so a crash can repeat an entry but never lose one.

import { open, type FileHandle } from 'node:fs/promises';

export const DEAD_LETTER_FILE = 'dead-letter.ndjson';

export interface DeadLetter {
  /** When the shipper gave up on the line. */
  time: string;
  file: string;
  /** The file's origin as in the document id: its content fingerprint and generation. */
  file_identity: string;
  offset: number;
  error: string;
  /** The line as text (invalid UTF-8 replaced by U+FFFD)... */
  line: string;
  /** ...and, when it was not UTF-8, its exact bytes. */
  line_base64?: string;
}

export class DeadLetterFile {
  readonly path: string;
  #handle: FileHandle | undefined;

  constructor(path: string) {
    this.path = path;
  }

  async append(entries: DeadLetter[]): Promise<void> {
    if (entries.length === 0) return;
    this.#handle ??= await open(this.path, 'a');
    await this.#handle.writeFile(entries.map((entry) => JSON.stringify(entry) + '\n').join(''));
    await this.#handle.sync();
  }

  async close(): Promise<void> {
    await this.#handle?.close();
    this.#handle = undefined;
  }
}
