// One SIEM output's own reader: a tailer of its own over the proxy's files, from a checkpoint of its
// own (<state>/outputs/<name>/checkpoint.json), so an output whose receiver is away falls behind on
// its own, re-reads from its own offsets when the receiver is back, and never holds back
// Elasticsearch or another output. One batch at a time: a batch is delivered (retried with backoff
// until the receiver confirms it), then its lines are acknowledged and the checkpoint written.
// Delivery is at least once: a batch sent again after a failure, a crash or a stop reaches the
// receiver again, with the same event ids.

import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { Incident } from '../../common/incident.ts';
import { backoffDelay, pause, type RetryPolicy } from '../backoff.ts';
import { CHECKPOINT_FILE, ensureStateDirectory, loadCheckpoint, saveCheckpoint } from '../checkpoint.ts';
import type { OutputConfig } from '../config.ts';
import { documentId, fileOrigin } from '../document-id.ts';
import { GracefulStop } from '../graceful-stop.ts';
import { OutputMetrics } from '../metrics.ts';
import { parseLine } from '../parse-line.ts';
import { readBatches } from '../read-loop.ts';
import type { Line, TailedFile } from '../tailed-file.ts';
import { Tailer } from '../tailer.ts';
import { Wakeup } from '../wakeup.ts';
import { HttpOutput } from './http.ts';
import type { Output } from './output.ts';
import { SyslogOutput } from './syslog.ts';

/** Where an output's checkpoint lives in the state directory. */
export function outputCheckpointPath(state: string, name: string): string {
  return join(state, 'outputs', name, CHECKPOINT_FILE);
}

export interface PipelineOptions {
  logs: string;
  state: string;
  poll_interval_ms: number;
  retry: RetryPolicy;
}

interface Item {
  file: TailedFile;
  generation: number;
  end: number;
}

class Batch {
  readonly items: Item[] = [];
  readonly events: string[] = [];
  bytes = 0;
  startedAt = 0;
}

function createOutput(config: OutputConfig): Output {
  return config.type === 'syslog' ? new SyslogOutput(config) : new HttpOutput(config);
}

export class OutputPipeline {
  readonly metrics: OutputMetrics;
  readonly #options: PipelineOptions;
  readonly #config: OutputConfig;
  readonly #output: Output;
  readonly #log: Logger;
  readonly #checkpointPath: string;
  readonly #wakeup: Wakeup;
  readonly #stop = new GracefulStop(() => this.#wakeup.signal());
  readonly #undelivered: Incident;
  #tailer: Tailer | undefined;
  #batch = new Batch();
  /** The files the saved checkpoint knows, so that a file found while behind is saved at once. */
  #savedFiles = '';

  constructor(options: PipelineOptions, config: OutputConfig, log: Logger) {
    this.#options = options;
    this.#config = config;
    this.#output = createOutput(config);
    this.#log = log;
    this.#checkpointPath = outputCheckpointPath(options.state, config.name);
    this.#wakeup = new Wakeup(options.logs);
    this.metrics = new OutputMetrics(() => this.#tailer?.lagBytes() ?? 0);
    this.#undelivered = new Incident(log, {
      started: 'output receiver did not confirm a batch, retrying with backoff (other outputs go on)',
      ongoing: 'output receiver still not confirming, retrying',
      ended: 'output receiver confirming again',
    });
  }

  get name(): string {
    return this.#config.name;
  }

  /** Runs until `stop()`: then delivers what it has read (within the grace period), checkpoints and returns. */
  async run(): Promise<void> {
    await ensureStateDirectory(dirname(this.#checkpointPath));
    const tailer = new Tailer(this.#options.logs, await loadCheckpoint(this.#checkpointPath), {
      onLoss: (loss) => {
        this.metrics.counts.bytes_lost += loss.bytes;
        this.#log.warn({ file: loss.name, file_identity: loss.identity, bytes_lost: loss.bytes, cause: loss.cause }, 'log file bytes lost before this output read them');
      },
    });
    this.#tailer = tailer;
    try {
      await this.#readLoop(tailer);
      if (this.#batch.items.length > 0) await this.#flush();
      // Only confirmed lines are ever acknowledged, so the checkpoint can always be saved.
      await this.#saveCheckpoint();
    } finally {
      this.#wakeup.close();
      await tailer.close();
      await this.#output.close();
    }
  }

  stop(): void {
    this.#stop.request();
  }

  async #readLoop(tailer: Tailer): Promise<void> {
    await readBatches(tailer, this.#wakeup, this.#config.batch, this.#options.poll_interval_ms, {
      stopping: () => this.#stop.requested,
      batch: () => this.#batch,
      add: (line) => this.#add(line),
      dispatch: () => this.#flush(),
      idle: async () => {
        if (tailer.checkpointDirty) await this.#saveCheckpoint();
      },
    });
  }

  /** The line is encoded at once: its bytes are a view into the tailer's buffer, valid until the next refill. */
  #add(line: Line): void {
    const batch = this.#batch;
    if (batch.items.length === 0) batch.startedAt = Date.now();
    this.metrics.counts.lines_read++;
    batch.items.push({ file: line.file, generation: line.generation, end: line.end });
    if (line.bytes.length === 0 && !line.problem) return; // a blank line holds nothing
    const parsed = parseLine(line.bytes, line.problem);
    if (!parsed.ok) {
      this.metrics.counts.skipped++;
      return;
    }
    // The trail's signed checkpoints are no events: they go to Elasticsearch's trail indices only.
    if (!('record' in parsed)) return;
    const { record } = parsed;
    const event = this.#output.encode(record, documentId(record.proxy, fileOrigin(line.file.identity, line.generation), line.offset));
    batch.events.push(event);
    batch.bytes += event.length;
  }

  async #flush(): Promise<void> {
    const { items, events } = this.#batch;
    this.#batch = new Batch();
    if (events.length > 0 && !(await this.#deliver(events))) {
      this.#log.warn({ events: events.length }, 'stopped before the output receiver confirmed a batch: it is sent again at the next start');
      return;
    }
    const tailer = this.#tailer!;
    for (const item of items) tailer.acknowledge(item.file, item.generation, item.end);
    await this.#saveCheckpoint();
  }

  /** True once the receiver confirmed the batch; false when the stop's grace period ran out first. */
  async #deliver(events: string[]): Promise<boolean> {
    const counts = this.metrics.counts;
    const tailer = this.#tailer!;
    for (let attempt = 0; !this.#stop.delivery.aborted; attempt++) {
      // While the receiver is away the reader waits here, but files keep rotating: the output
      // learns of each one and saves it, so that its deletion is reported even after a restart.
      if (attempt > 0) await tailer.look();
      await this.#saveIfNewFiles();
      try {
        await this.#output.deliver(events, AbortSignal.any([this.#stop.delivery, AbortSignal.timeout(this.#config.timeout_ms)]));
        counts.delivered += events.length;
        this.#undelivered.recovered(() => ({ retries: counts.retries }));
        return true;
      } catch (error) {
        if (this.#stop.delivery.aborted) break;
        counts.retries++;
        const delay = backoffDelay(this.#options.retry, attempt);
        this.#undelivered.failed(() => ({ reason: (error as Error).message, events: events.length, retry_in_ms: Math.round(delay) }));
        await pause(delay, this.#stop.delivery).catch(() => {});
      }
    }
    return false;
  }

  async #saveIfNewFiles(): Promise<void> {
    if (Object.keys(this.#tailer!.checkpoint().files).join('\n') !== this.#savedFiles) await this.#saveCheckpoint();
  }

  async #saveCheckpoint(): Promise<void> {
    const tailer = this.#tailer!;
    tailer.checkpointDirty = false;
    const checkpoint = tailer.checkpoint();
    await saveCheckpoint(this.#checkpointPath, checkpoint);
    this.#savedFiles = Object.keys(checkpoint.files).join('\n');
  }
}
