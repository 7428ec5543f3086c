// The audit log's first copy: one JSON line per API request appended to a local file, after the
// response has ended, so writing it never delays or fails a request. The file is opened at start
// (a path that cannot be written stops the API there); a write that fails later is logged once and
// the requests go on. The forwarder (forwarder.ts) copies the file into Elasticsearch.

import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import type { Logger } from 'pino';
import type { AuditDocument } from '../../common/api-audit-document.ts';
import { loggable } from '../middleware/errors.ts';

export class AuditFile {
  readonly path: string;
  readonly #stream: WriteStream;
  #failed = false;

  /** Opens (creating, mode 0600: it holds every request's parameters) `path` for appending; throws when it cannot. */
  constructor(path: string, logger: Logger) {
    this.path = path;
    this.#stream = createWriteStream(path, { fd: openSync(path, 'a', 0o600) });
    this.#stream.on('error', (error) => {
      if (this.#failed) return;
      this.#failed = true;
      logger.error({ err: loggable(error), file: path }, 'cannot write the audit file; requests go on unrecorded');
    });
  }

  append(document: AuditDocument): void {
    if (this.#failed) return;
    this.#stream.write(`${JSON.stringify(document)}\n`);
  }

  /** Resolves once every appended line is written and the file closed. */
  close(): Promise<void> {
    return new Promise((resolve) => this.#stream.end(resolve));
  }
}
