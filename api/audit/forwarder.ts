// Copies the audit file into the daily audit indices: every pass reads the complete lines after
// the last offset Elasticsearch acknowledged, bulk-creates them with the request id as `_id`, and
// only then moves the offset (kept in `<file>.offset`). Elasticsearch down: nothing moves, the
// file keeps growing, the next pass sends what is pending. A line sent twice (a crash between the
// bulk and the offset) is a create conflict, counted as done: each request is in the index once.

import { readFileSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { auditIndexTemplate, dailyAuditIndexName, type AuditDocument } from '../../common/api-audit-document.ts';
import { replaceFile } from '../../common/replace-file.ts';
import { answeredWith, type Storage } from '../../common/storage/storage.ts';
import { loggable } from '../middleware/errors.ts';

/** How often the file is looked at. */
export const AUDIT_FORWARD_INTERVAL_MS = 1_000;
/**
 * Most bytes one bulk request carries. A line is far shorter: its parameters come from a request
 * line, which Node.js caps at 16 KiB of headers.
 */
const BATCH_BYTES = 1 << 20;

/** A create whose `_id` is already indexed: this line was sent before. */
const CONFLICT = 409;

export interface AuditForwarderOptions {
  storage: Storage;
  prefix: string;
  file: string;
  logger: Logger;
  timeoutMs: number;
}

function readOffset(file: string): number {
  try {
    const offset = (JSON.parse(readFileSync(file, 'utf8')) as { offset?: unknown }).offset;
    return typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0 ? offset : 0;
  } catch {
    // No offset yet (or an unreadable one): the file from the start; what is already indexed conflicts harmlessly.
    return 0;
  }
}

export class AuditForwarder {
  readonly #options: AuditForwarderOptions;
  readonly #offsetFile: string;
  #offset: number;
  #templateReady = false;
  #unreachable = false;
  #running: Promise<boolean> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: AuditForwarderOptions) {
    this.#options = options;
    this.#offsetFile = `${options.file}.offset`;
    this.#offset = readOffset(this.#offsetFile);
  }

  start(): void {
    this.#timer = setInterval(() => void this.pass(), AUDIT_FORWARD_INTERVAL_MS).unref();
  }

  /** Stops the timer, then sends what is pending (one last try, bounded by the request timeout). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
    await this.pass();
  }

  /** One pass (or the one running): true when everything written so far is in Elasticsearch. */
  pass(): Promise<boolean> {
    this.#running ??= this.#drain().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #drain(): Promise<boolean> {
    try {
      for (;;) {
        const lines = await this.#pending();
        if (lines.bytes === 0) break;
        await this.#send(lines.documents);
        this.#offset += lines.bytes;
        await replaceFile(this.#offsetFile, JSON.stringify({ offset: this.#offset }), 0o600);
      }
      if (this.#unreachable) this.#options.logger.info('audit index reachable again; pending audit records sent');
      this.#unreachable = false;
      return true;
    } catch (error) {
      if (!this.#unreachable) this.#options.logger.warn({ err: loggable(error) }, 'cannot copy the audit file into Elasticsearch; the file keeps every record, retrying');
      this.#unreachable = true;
      return false;
    }
  }

  /** The complete lines after the offset (at most BATCH_BYTES of them, at least one). */
  async #pending(): Promise<{ documents: AuditDocument[]; bytes: number }> {
    const { size } = await stat(this.#options.file);
    if (size < this.#offset) this.#offset = 0;
    if (size === this.#offset) return { documents: [], bytes: 0 };
    const file = await open(this.#options.file, 'r');
    let text: string;
    try {
      const length = Math.min(size - this.#offset, BATCH_BYTES);
      const { buffer, bytesRead } = await file.read({ buffer: Buffer.alloc(length), position: this.#offset });
      const chunk = buffer.subarray(0, bytesRead);
      text = chunk.subarray(0, chunk.lastIndexOf(0x0a) + 1).toString('utf8');
    } finally {
      await file.close();
    }
    const documents: AuditDocument[] = [];
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        documents.push(JSON.parse(line) as AuditDocument);
      } catch {
        this.#options.logger.error({ file: this.#options.file }, 'skipped an audit file line that is not JSON');
      }
    }
    return { documents, bytes: Buffer.byteLength(text) };
  }

  async #send(documents: AuditDocument[]): Promise<void> {
    const { storage, prefix, timeoutMs, logger } = this.#options;
    const options = { timeoutMs, noRetry: true };
    if (!this.#templateReady) {
      try {
        await storage.putIndexTemplate(auditIndexTemplate(prefix), options);
      } catch (error) {
        // On a secured cluster the API's key may not manage templates (403): the operator's setup installed it.
        if (!answeredWith(error, 403)) throw error;
      }
      this.#templateReady = true;
    }
    if (documents.length === 0) return;
    const operations = documents.flatMap((document) => [
      { create: { _index: dailyAuditIndexName(prefix, new Date(document['@timestamp'])), _id: document.request_id } },
      document,
    ]);
    const items = await storage.bulk(operations, options);
    const retry = items.filter((item) => item.error && [429, 503].includes(item.status));
    if (retry.length > 0) throw new Error(`the cluster refused ${retry.length} audit documents for now (${retry[0]!.status})`);
    items.forEach((item, i) => {
      if (item.error && item.status !== CONFLICT) {
        logger.error({ request_id: documents[i]!.request_id, error: item.error.type }, 'the cluster rejected an audit document; it stays in the audit file only');
      }
    });
  }
}
