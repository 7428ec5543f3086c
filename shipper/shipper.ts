// The shipper's loop: lines from the tailer become bulk operations in a batch; a batch goes out
// when it reaches its line or byte bound, or when its first line has waited the flush interval.
// Up to `batch.max_in_flight` bulk requests are out at once while the next batch fills, and the
// reader waits there: that is the bounded read-ahead when the cluster is slow or away. Answers may
// come back in any order, but batches are settled (dead letters written, lines acknowledged, the
// checkpoint saved) strictly in the order they were read: a batch waits for the one before it. So
// the checkpoint only ever moves over lines that are all settled, a contiguous prefix of each
// file, never past a batch still out, however many later ones the cluster has already taken.

import { join } from 'node:path';
import type { Logger } from 'pino';
import { ProxyAccessLogError } from '../common/errors.ts';
import { Incident } from '../common/incident.ts';
import { applyRetention, createUpcomingIndices, installIndexTemplate } from '../common/index-lifecycle.ts';
import { dailyIndexName, indexTemplate } from '../common/proxy-event-document.ts';
import { checkEngine, EngineMismatchError } from '../common/search-engine.ts';
import { engineOf } from '../common/storage/engine.ts';
import { answeredWith, type Storage } from '../common/storage/storage.ts';
import { backoffDelay, pause } from './backoff.ts';
import { sendBulk, type BulkOutcome } from './bulk.ts';
import { CHECKPOINT_FILE, ensureStateDirectory, loadCheckpoint, saveCheckpoint, writingState } from './checkpoint.ts';
import type { ShipperConfig } from './config.ts';
import { DEAD_LETTER_FILE, DeadLetterFile, type DeadLetter } from './dead-letter.ts';
import { documentId, fileOrigin } from './document-id.ts';
import { toDocument } from './document.ts';
import { preloadGeo } from './geo.ts';
import { GracefulStop } from './graceful-stop.ts';
import { ShipperMetrics } from './metrics.ts';
import { parseLine } from './parse-line.ts';
import { readBatches } from './read-loop.ts';
import type { Line, TailedFile } from './tailed-file.ts';
import { Tailer } from './tailer.ts';
import { checkpointDocument, checkpointIndex, withTrail } from './trail-document.ts';
import { Wakeup } from './wakeup.ts';

const RETENTION_INTERVAL_MS = 86_400_000;
const UPCOMING_INDICES_INTERVAL_MS = 3_600_000;

interface Item {
  file: TailedFile;
  generation: number;
  offset: number;
  end: number;
  /** Action and document, for `_bulk`; absent for a line that is dead already or blank. */
  operation?: string;
  recordTime?: string;
  text?: string;
  base64?: string;
  error?: string;
}

/** The key may not install the template, and the operator has not installed it either. */
export class IndexTemplateMissingError extends ProxyAccessLogError {
  readonly code = 'SHIPPER_INDEX_TEMPLATE_MISSING';
  constructor(name: string, options: { cause: unknown }) {
    super(`the index template ${name} is not installed and this key may not install it: run npm run setup-elasticsearch with an admin account`, options);
  }
}

class Batch {
  readonly items: Item[] = [];
  bytes = 0;
  startedAt = 0;
}

export class Shipper {
  readonly metrics: ShipperMetrics;
  readonly #config: ShipperConfig;
  readonly #storage: Storage;
  readonly #log: Logger;
  readonly #checkpointPath: string;
  readonly #deadLetters: DeadLetterFile;
  readonly #wakeup: Wakeup;
  readonly #stop = new GracefulStop(() => this.#wakeup.signal());
  #failure: unknown;
  #tailer: Tailer | undefined;
  #batch = new Batch();
  /** Bulk requests out and not answered yet (never rejected: their batches' settling sees the errors). */
  readonly #requests = new Set<Promise<unknown>>();
  /** Batches sent or being sent and not yet settled, oldest first. */
  readonly #unsettled: Promise<void>[] = [];
  /** A batch was given up at stop: later ones must not move the checkpoint either. */
  #abandoned = false;
  #indexByDay = new Map<string, string>();
  /** The cluster refusing bulk requests (unreachable, blocked, closed index, overloaded): one line when it starts and ends. */
  readonly #bulkRefused: Incident;
  #bulkRetries = 0;
  /** Batches whose request the cluster refused and has not taken since: the incident ends when none is left. */
  readonly #refusedBatches = new Set<Batch>();

  constructor(config: ShipperConfig, storage: Storage, log: Logger) {
    this.#config = config;
    this.#storage = storage;
    this.#log = log;
    this.#bulkRefused = new Incident(log, {
      started: 'bulk request not accepted, retrying with backoff',
      ongoing: 'bulk requests still not accepted, retrying',
      ended: 'bulk requests accepted again',
    });
    this.#checkpointPath = join(config.state, CHECKPOINT_FILE);
    this.#deadLetters = new DeadLetterFile(join(config.state, DEAD_LETTER_FILE));
    this.#wakeup = new Wakeup(config.logs);
    this.metrics = new ShipperMetrics(() => this.#tailer?.lagBytes() ?? 0);
  }

  /** Runs until `stop()`: then flushes what it has read, checkpoints and returns. */
  async run(): Promise<void> {
    await ensureStateDirectory(this.#config.state);
    const checkpoint = await loadCheckpoint(this.#checkpointPath);
    if (checkpoint.version === 1) this.#log.info({ files: Object.keys(checkpoint.files).length }, 'checkpoint keyed by device and inode: carrying its offsets over to content fingerprints');
    const tailer = new Tailer(this.#config.logs, checkpoint, {
      onLoss: (loss) => {
        this.metrics.counts.bytes_lost += loss.bytes;
        this.#log.warn({ file: loss.name, file_identity: loss.identity, bytes_lost: loss.bytes, cause: loss.cause }, 'log file bytes lost before they were read');
      },
      onTruncated: (file) => this.#log.warn({ file: file.name, generation: file.generation }, 'log file truncated: reading it again from the start'),
    });
    this.#tailer = tailer;
    const retention = this.#startRetention();
    let upcoming: NodeJS.Timeout | undefined;
    try {
      const prefix = this.#config.index_prefix;
      const ready = async () => {
        await checkEngine(this.#config.elasticsearch, engineOf(this.#config.elasticsearch));
        await this.#installTemplate(prefix);
        // Once a request is out on a warm connection (the cluster creating indices), not before
        // the first one: a blocked event loop would hold that one up instead.
        const geoLoaded = new Promise<void>((resolve) => setImmediate(() => resolve(preloadGeo())));
        await Promise.all([createUpcomingIndices(this.#storage, prefix), geoLoaded]);
      };
      if (await this.#untilDone(ready, 'install the index template and create the upcoming daily indices')) {
        upcoming = this.#startIndexCreation();
        await this.#readLoop(tailer);
      }
      await this.#finish();
      if (this.#failure) throw this.#failure;
    } finally {
      clearInterval(retention);
      clearInterval(upcoming);
      this.#wakeup.close();
      await tailer.close();
      await this.#deadLetters.close();
    }
  }

  stop(): void {
    this.#stop.request();
  }

  async #readLoop(tailer: Tailer): Promise<void> {
    await readBatches(tailer, this.#wakeup, this.#config.batch, this.#config.poll_interval_ms, {
      stopping: () => this.#stop.requested,
      batch: () => this.#batch,
      add: (line) => this.#add(line),
      dispatch: () => this.#dispatch(),
      idle: async () => {
        if (tailer.checkpointDirty && this.#unsettled.length === 0) await this.#saveCheckpoint();
      },
    });
  }

  #add(line: Line): void {
    const batch = this.#batch;
    if (batch.items.length === 0) batch.startedAt = Date.now();
    this.metrics.counts.lines_read++;
    const item: Item = { file: line.file, generation: line.generation, offset: line.offset, end: line.end };
    batch.items.push(item);
    if (line.bytes.length === 0 && !line.problem) return; // a blank line holds nothing
    const parsed = parseLine(line.bytes, line.problem);
    item.text = parsed.text;
    if (!parsed.ok) {
      item.error = parsed.error;
      item.base64 = parsed.base64;
      return;
    }
    const origin = fileOrigin(line.file.identity, line.generation);
    if ('checkpoint' in parsed) {
      const { checkpoint } = parsed;
      const id = documentId(checkpoint.proxy, origin, line.offset);
      item.operation = `{"create":{"_index":"${checkpointIndex(this.#config.index_prefix, checkpoint)}","_id":"${id}"}}\n${JSON.stringify(checkpointDocument(checkpoint, parsed.text))}`;
    } else {
      const { record } = parsed;
      const id = documentId(record.proxy, origin, line.offset);
      item.operation = `{"create":{"_index":"${this.#indexFor(record.time)}","_id":"${id}"}}\n${JSON.stringify(withTrail(toDocument(record), record, parsed.text))}`;
      item.recordTime = record.time;
    }
    batch.bytes += item.operation.length;
  }

  /** Index names are pure functions of the UTC day; the day is the first ten characters of `time`. */
  #indexFor(time: string): string {
    const day = time.slice(0, 10);
    let index = this.#indexByDay.get(day);
    if (index === undefined) {
      index = dailyIndexName(this.#config.index_prefix, new Date(time));
      this.#indexByDay.set(day, index);
    }
    return index;
  }

  /**
   * Sends the batch once fewer than `max_in_flight` requests are out, and settles it (dead letters,
   * acknowledgements, checkpoint) after the batches before it. One answered batch may be settling
   * besides those out, so a request is not held up by a checkpoint's fsync: at most
   * `max_in_flight` + 1 batches are unsettled besides the one filling.
   */
  async #dispatch(): Promise<void> {
    const batch = this.#batch;
    this.#batch = new Batch();
    const inFlight = this.#config.batch.max_in_flight;
    while (this.#requests.size >= inFlight || this.#unsettled.length > inFlight) await Promise.race([this.#unsettled[0], ...this.#requests]);
    const sent = this.#send(batch);
    const request: Promise<unknown> = sent.then(
      () => this.#requests.delete(request),
      () => this.#requests.delete(request),
    );
    this.#requests.add(request);
    const previous = this.#unsettled.at(-1);
    const settled: Promise<void> = (async () => {
      const outcome = await sent;
      await previous;
      // After a batch that failed or was given up, nothing may be acknowledged: it would move
      // the checkpoint past that batch's lines.
      if (outcome === undefined || this.#failure || this.#abandoned) {
        this.#abandoned = true;
        return;
      }
      await this.#settle(batch, outcome);
    })()
      .catch((error: unknown) => {
        this.#failure ??= error;
        this.stop();
      })
      .finally(() => this.#unsettled.splice(this.#unsettled.indexOf(settled), 1));
    this.#unsettled.push(settled);
  }

  /** The batch's bulk outcome, or undefined when the shipper stopped before the cluster took it. */
  async #send(batch: Batch): Promise<BulkOutcome<Item> | undefined> {
    if (this.#failure || this.#abandoned) return undefined;
    const toSend = batch.items.filter((item): item is Item & { operation: string } => item.operation !== undefined);
    try {
      const outcome = await sendBulk<Item & { operation: string }>(this.#storage, toSend, {
        retry: this.#config.retry,
        signal: this.#stop.delivery,
        onRetry: (reason, items, delayMs) => {
          this.metrics.counts.retries++;
          this.#bulkRetries++;
          this.#refusedBatches.add(batch);
          this.#bulkRefused.failed(() => ({ reason, items, retries: this.#bulkRetries, retry_in_ms: Math.round(delayMs) }));
        },
      });
      this.#refusedBatches.delete(batch);
      if (this.#refusedBatches.size === 0) {
        this.#bulkRefused.recovered(() => ({ retries: this.#bulkRetries }));
        this.#bulkRetries = 0;
      }
      // Counted when the cluster answers: those documents are indexed, whatever is still out before them.
      this.metrics.counts.indexed += outcome.created;
      this.metrics.counts.duplicates += outcome.duplicates;
      return outcome;
    } catch (error) {
      if (!this.#stop.delivery.aborted) throw error;
      this.#log.warn({ lines: batch.items.length }, 'stopped before the cluster took a batch: it is read again at the next start');
      return undefined;
    }
  }

  async #settle(batch: Batch, outcome: BulkOutcome<Item>): Promise<void> {
    const dead: DeadLetter[] = [];
    const now = new Date().toISOString();
    const deadLetter = (item: Item, error: string) =>
      dead.push({
        time: now,
        file: item.file.name,
        file_identity: fileOrigin(item.file.identity, item.generation),
        offset: item.offset,
        error,
        line: item.text ?? '',
        ...(item.base64 ? { line_base64: item.base64 } : {}),
      });
    for (const item of batch.items) if (item.error) deadLetter(item, item.error);
    for (const { item, error } of outcome.rejected) deadLetter(item, `rejected by Elasticsearch: ${error}`);
    await writingState('dead-letter file', this.#deadLetters.path, () => this.#deadLetters.append(dead));

    this.metrics.counts.dead_lettered += dead.length;
    const tailer = this.#tailer!;
    let newest: string | undefined;
    for (const item of batch.items) {
      tailer.acknowledge(item.file, item.generation, item.end);
      if (item.recordTime !== undefined && (newest === undefined || item.recordTime > newest)) newest = item.recordTime;
    }
    // ISO-8601 UTC strings of one precision order like the moments they name.
    if (newest !== undefined) this.metrics.recordAcknowledged(Date.parse(newest));
    await this.#saveCheckpoint();
  }

  async #saveCheckpoint(): Promise<void> {
    const tailer = this.#tailer!;
    tailer.checkpointDirty = false;
    await saveCheckpoint(this.#checkpointPath, tailer.checkpoint());
  }

  async #finish(): Promise<void> {
    if (this.#batch.items.length > 0) await this.#dispatch();
    while (this.#unsettled.length > 0) await this.#unsettled[0];
    if (this.#tailer!.checkpointDirty && !this.#abandoned && !this.#failure) await this.#saveCheckpoint();
  }

  /** Retries `task` with backoff until it succeeds (true) or the shipper is stopped (false). */
  async #untilDone(task: () => Promise<unknown>, what: string): Promise<boolean> {
    for (let attempt = 0; !this.#stop.requested; attempt++) {
      try {
        await task();
        return true;
      } catch (error) {
        // The other engine stays the other engine: no retry makes it work.
        if (error instanceof EngineMismatchError) throw error;
        const delay = backoffDelay(this.#config.retry, attempt);
        this.#log.warn({ err: (error as Error).message, retry_in_ms: Math.round(delay) }, `could not ${what}, retrying`);
        await pause(delay, this.#stop.waits).catch(() => {});
      }
    }
    return false;
  }

  /**
   * A least-privilege key may not install templates: that is a cluster-wide privilege over every
   * template, which would let a shipper's key reshape other indices. With such a key the operator
   * installed the template once (`npm run setup-elasticsearch`): on a refusal (403) the shipper
   * looks it up (the key's cluster `monitor` may read templates) and goes on when it is there. When
   * it is not, every daily index would be created without its mappings, so nothing is read until it is.
   */
  async #installTemplate(prefix: string): Promise<void> {
    try {
      const conflicting = await installIndexTemplate(this.#storage, prefix);
      if (conflicting.length > 0) this.#log.warn({ indices: conflicting }, 'these daily indices map a field of the template otherwise; they keep their mapping');
    } catch (error) {
      if (!answeredWith(error, 403)) throw error;
      const name = indexTemplate(prefix).name;
      const installed = await this.#templateInstalled(name);
      if (installed === false) throw new IndexTemplateMissingError(name, { cause: error });
      if (installed) this.#log.info({ index_template: name }, 'index template installed by setup-elasticsearch; this key may not install it and need not');
      else this.#log.warn({ index_template: name }, 'not allowed to install or to look up the index template; going on with the one setup-elasticsearch installed (run it again to give this key the cluster monitor privilege)');
    }
  }

  /** Whether the template is on the cluster; undefined when this key may not look (403). */
  async #templateInstalled(name: string): Promise<boolean | undefined> {
    try {
      return (await this.#storage.indexTemplates()).some((template) => template.name === name);
    } catch (error) {
      if (answeredWith(error, 403)) return undefined;
      throw error;
    }
  }

  /** Tomorrow's index exists well before midnight UTC, whenever the shipper was started. */
  #startIndexCreation(): NodeJS.Timeout {
    return setInterval(() => {
      createUpcomingIndices(this.#storage, this.#config.index_prefix).catch((error: Error) =>
        this.#log.warn({ err: error.message }, 'could not create the upcoming daily indices; trying again within the hour'),
      );
    }, UPCOMING_INDICES_INTERVAL_MS).unref();
  }

  #startRetention(): NodeJS.Timeout | undefined {
    const days = this.#config.retention_days;
    if (days === undefined) return undefined;
    const run = () =>
      applyRetention(this.#storage, { prefix: this.#config.index_prefix, days }).then(
        (result) => this.#log.info({ deleted: result.expired, cutoff: result.cutoff.toISOString() }, 'retention applied'),
        (error: Error) => this.#log.warn({ err: error.message }, 'retention failed; trying again at the next run'),
      );
    void run();
    return setInterval(run, RETENTION_INTERVAL_MS).unref();
  }
}
