// Lines on their way to the access-log file, and what happens while the file cannot be written.
// Writable: lines are gathered into appends of `batchBytes`, flushed at least every tick.
// Unwritable (the sink's append failed: a full disk, a read-only mount): the sink keeps the unwritten
// rest of its last append, new lines are held here up to `bufferMaxBytes`, and every tick tries the
// sink again; once it takes the rest and every held line, a line counting what was dropped follows
// and writing goes on as before. Past the bound the NEWEST lines are dropped: the held ones are the
// start of the incident, which a flood of later requests must not push out of the record.
// `refuse` policy: from the first dropped line until writing works again, `refusing` is true and
// the proxy answers 503.

import type { Logger } from 'pino';
import { describeFileError } from '../common/file-errors.ts';
import { Incident } from '../common/incident.ts';

export const WHEN_UNWRITABLE = ['serve', 'refuse'] as const;
export type WhenUnwritable = (typeof WHEN_UNWRITABLE)[number];

export interface LineSink {
  /** The file being written, for diagnostics. */
  readonly path: string;
  /**
   * Appends `chunk` after whatever the sink still holds from a failed append; the error when not
   * all of it could be written (the sink then keeps the rest, whole lines are never given up).
   * An empty chunk retries what the sink holds.
   */
  append(chunk: string): Error | undefined;
}

export interface LineWriterOptions {
  batchBytes: number;
  bufferMaxBytes: number;
  policy: WhenUnwritable;
  /** The line recording `count` dropped lines, the first dropped at `sinceMs`. */
  droppedLine(count: number, sinceMs: number, nowMs: number): string;
  diagnostics: Logger;
}

export type AccessLogState = 'writable' | 'unwritable' | 'refusing';

export interface AccessLogStatus {
  state: AccessLogState;
  policy: WhenUnwritable;
  path: string;
  /** Bytes of lines not yet in the file. */
  buffered_bytes: number;
  buffer_max_bytes: number;
  /** Lines dropped since the process started. */
  dropped_lines: number;
  /** Bytes appended to the files since the process started. */
  written_bytes: number;
  /** Appends that failed since the process started (each is retried). */
  write_errors: number;
  /** When writing started failing (ISO-8601), while it fails. */
  unwritable_since?: string;
}

function countLines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  return count;
}

export class LineWriter {
  readonly #sink: LineSink;
  readonly #options: LineWriterOptions;
  readonly #incident: Incident;
  /** The batch being gathered while writable. */
  #pending = '';
  /** Unwritable: lines waiting behind the sink's rest, in chunks of about `batchBytes`. */
  readonly #held: string[] = [];
  /** Unwritable: bytes of the append the sink keeps (an upper bound of its rest) and of `#held`. */
  #sinkBytes = 0;
  #heldBytes = 0;
  /** Lines of this incident: held (written once it is over) and dropped since the last dropped-count line. */
  #incidentLines = 0;
  #incidentDropped = 0;
  #dropped = 0;
  #firstDropMs = 0;
  #droppedTotal = 0;
  #writtenBytes = 0;
  #writeErrors = 0;
  #lastError: Error | undefined;

  constructor(sink: LineSink, options: LineWriterOptions) {
    this.#sink = sink;
    this.#options = options;
    this.#incident = new Incident(options.diagnostics, {
      started: 'access log unwritable: holding lines in memory, retrying',
      ongoing: 'access log still unwritable',
      ended: 'access log writable again: held lines written',
    });
  }

  get writable(): boolean {
    return !this.#incident.active;
  }

  get refusing(): boolean {
    return this.#dropped > 0 && this.#options.policy === 'refuse';
  }

  write(line: string): void {
    if (!this.#incident.active) {
      this.#pending += line;
      if (this.#pending.length >= this.#options.batchBytes) this.flush();
    } else this.#hold(line);
  }

  /** Writes the gathered batch, or, while unwritable, tries the sink again. Called every tick. */
  flush(): void {
    if (this.#incident.active) {
      this.#retry();
      return;
    }
    if (this.#pending === '') return;
    const chunk = this.#pending;
    this.#pending = '';
    const error = this.#sink.append(chunk);
    if (error) this.#failed(error, chunk);
    else this.#writtenBytes += Buffer.byteLength(chunk);
  }

  /** Bytes and lines that could not be written (for the stop's last word). */
  get unwritten(): { bytes: number; lines: number } {
    return { bytes: this.#sinkBytes + this.#heldBytes, lines: this.#incidentLines + this.#dropped };
  }

  status(): AccessLogStatus {
    const unwritable = this.#incident.active;
    return {
      state: this.refusing ? 'refusing' : unwritable ? 'unwritable' : 'writable',
      policy: this.#options.policy,
      path: this.#sink.path,
      buffered_bytes: unwritable ? this.#sinkBytes + this.#heldBytes : Buffer.byteLength(this.#pending),
      buffer_max_bytes: this.#options.bufferMaxBytes,
      dropped_lines: this.#droppedTotal,
      written_bytes: this.#writtenBytes,
      write_errors: this.#writeErrors,
      ...(unwritable ? { unwritable_since: new Date(this.#incident.since).toISOString() } : {}),
    };
  }

  #failed(error: Error, chunk: string): void {
    this.#lastError = error;
    this.#writeErrors++;
    this.#sinkBytes = Buffer.byteLength(chunk);
    this.#incidentLines += countLines(chunk);
    this.#incident.failed(() => this.#incidentFields());
  }

  #hold(line: string): void {
    // Once one line is dropped, all are until writing works again: one gap, counted by one line.
    const bytes = Buffer.byteLength(line);
    if (this.#dropped > 0 || this.#sinkBytes + this.#heldBytes + bytes > this.#options.bufferMaxBytes) {
      if (this.#dropped === 0) this.#firstDropMs = Date.now();
      this.#dropped++;
      this.#droppedTotal++;
      this.#incidentDropped++;
      return;
    }
    this.#heldBytes += bytes;
    this.#incidentLines++;
    const last = this.#held.length - 1;
    if (last >= 0 && this.#held[last]!.length + line.length <= this.#options.batchBytes) this.#held[last] += line;
    else this.#held.push(line);
  }

  #retry(): void {
    // Each append that succeeds wrote what the sink kept of the one before (at most #sinkBytes) and its own chunk.
    let error = this.#sink.append('');
    if (error === undefined) this.#writtenBytes += this.#sinkBytes;
    while (error === undefined && this.#held.length > 0) {
      const chunk = this.#held.shift()!;
      const bytes = Buffer.byteLength(chunk);
      this.#heldBytes -= bytes;
      this.#sinkBytes = bytes;
      error = this.#sink.append(chunk);
      if (error === undefined) this.#writtenBytes += bytes;
    }
    if (error === undefined && this.#dropped > 0) {
      const line = this.#options.droppedLine(this.#dropped, this.#firstDropMs, Date.now());
      this.#dropped = 0;
      this.#sinkBytes = Buffer.byteLength(line);
      error = this.#sink.append(line);
      if (error === undefined) this.#writtenBytes += this.#sinkBytes;
    }
    if (error !== undefined) {
      this.#lastError = error;
      this.#writeErrors++;
      this.#incident.failed(() => this.#incidentFields());
      return;
    }
    this.#sinkBytes = 0;
    this.#incident.recovered(() => ({ path: this.#sink.path, lines_held: this.#incidentLines, lines_dropped: this.#incidentDropped }));
    this.#incidentLines = 0;
    this.#incidentDropped = 0;
  }

  #incidentFields(): Record<string, unknown> {
    return {
      path: this.#sink.path,
      cause: describeFileError(this.#lastError),
      policy: this.#options.policy,
      buffered_bytes: this.#sinkBytes + this.#heldBytes,
      buffer_max_bytes: this.#options.bufferMaxBytes,
      lines_held: this.#incidentLines,
      lines_dropped: this.#incidentDropped,
    };
  }
}
