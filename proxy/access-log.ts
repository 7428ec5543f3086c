// The access-log writer: each record is one JSON line that pino-roll (pino's rotating SonicBoom
// stream, in this thread: no worker hop on the hot path) appends to `<dir>/access.<N>.log` and
// rotates by size and by time, deleting the oldest files beyond `keep`. Lines are never split:
// pino-roll only switches files between writes, and the rest of an append that failed part way
// stays in SonicBoom, which writes it first when it is tried again.
// Lines are gathered (line-writer.ts) into synchronous appends of BATCH_BYTES, flushed at least
// every FLUSH_INTERVAL_MS: an 8 KiB append to the page cache is a few microseconds on this thread,
// cheaper than handing each write to the thread pool and waking this thread again when it is done.
// SonicBoom itself buffers nothing (minLength 0): its buffer is unbounded and it retries on every
// write, so batching, holding and retrying while the file is unwritable are line-writer.ts's.
// Every line is sealed into the proxy's trail (proxy/trail-chain.ts); with a signing key, a signed
// checkpoint follows at start, after a rotation, at least every CHECKPOINT_INTERVAL_MS while lines
// are written, and at stop.

import { randomUUID } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import pinoRoll from 'pino-roll';
import { ACCESS_LOG_BASENAME, ACCESS_LOG_EXTENSION, ACCESS_LOG_FILE_PATTERN, DROPPED_LINES_REASON, type AccessRecord } from '../common/access-record.ts';
import { CHECKPOINT_INTERVAL_MS } from '../common/trail.ts';
import type { ProxyConfig } from './config.ts';
import { LineWriter, type AccessLogStatus, type LineSink } from './line-writer.ts';
import { CHECKPOINT, loadTrailSigner, readChainHead, TrailChain } from './trail-chain.ts';

const BATCH_BYTES = 8_192;
const FLUSH_INTERVAL_MS = 200;

/** The status of the line that stands for lines the proxy could not keep: the log was unavailable to those requests. */
const DROPPED_LINES_STATUS = 503;
/** Its source_ip: no client sent it. */
const NO_CLIENT_ADDRESS = '0.0.0.0';

/** A record as the request handler builds it; the writer adds the instance's `proxy` id and the trail's `seq` and `prev`. */
export type RequestRecord = Omit<AccessRecord, 'proxy' | 'seq' | 'prev'>;

export interface AccessLog {
  write(record: RequestRecord): void;
  /** True while the `refuse` policy has new requests answered 503. */
  readonly refusing: boolean;
  status(): AccessLogStatus;
  /** Flushes every buffered line to disk and closes the file. */
  close(): Promise<void>;
}

interface RollStream extends NodeJS.EventEmitter {
  write(line: string): boolean;
  end(): void;
  destroy(): void;
  destroyed: boolean;
  file: string;
}

/**
 * Each start writes into a new, higher-numbered file. pino-roll alone would pick the highest file
 * born in the current rotation period, or restart at 1 over older files when there is none, which
 * would break the numbering order the shipper follows.
 */
async function startNewFile(dir: string): Promise<void> {
  let highest = 0;
  for (const name of await readdir(dir)) {
    const match = ACCESS_LOG_FILE_PATTERN.exec(name);
    if (match) highest = Math.max(highest, Number(match[1]));
  }
  if (highest > 0) await writeFile(join(dir, `${ACCESS_LOG_BASENAME}.${highest + 1}.${ACCESS_LOG_EXTENSION}`), '', { flag: 'wx' });
}

/**
 * SonicBoom in sync mode reports a failed write by emitting 'error' inside `write`; an error
 * emitted outside an append (a rotation or clean-up that failed) is no write failure.
 */
function sinkOf(stream: RollStream, diagnostics: Logger): LineSink {
  let appending = false;
  let failure: Error | undefined;
  stream.on('error', (error: Error) => {
    if (appending) failure = error;
    else diagnostics.error({ err: error }, 'access log rotation failed');
  });
  return {
    get path() {
      return stream.file;
    },
    append(chunk) {
      failure = undefined;
      appending = true;
      try {
        stream.write(chunk);
      } finally {
        appending = false;
      }
      return failure;
    },
  };
}

export async function openAccessLog(settings: ProxyConfig['access_log'], proxyId: string, diagnostics: Logger): Promise<AccessLog> {
  const signer = settings.signing_key_file === undefined ? undefined : await loadTrailSigner(settings.signing_key_file);
  await mkdir(settings.dir, { recursive: true });
  const chain = new TrailChain(proxyId, await readChainHead(settings.dir, proxyId), signer);
  await startNewFile(settings.dir);
  const stream = (await pinoRoll({
    file: join(settings.dir, ACCESS_LOG_BASENAME),
    extension: `.${ACCESS_LOG_EXTENSION}`,
    size: settings.rotation.size,
    frequency: settings.rotation.frequency,
    limit: { count: settings.keep, removeOtherLogFiles: true },
    minLength: 0,
    sync: true,
  })) as unknown as RollStream;
  // The record has a fixed shape, so JSON.stringify writes it directly: pino's generic serialiser
  // (asJson) cost about 8 µs a line here, four times as much, on every request. The chain's seal
  // puts the opening brace, `proxy`, `seq` and `prev` before it.
  const body = (record: RequestRecord) => JSON.stringify(record).slice(1);
  const droppedLine = (count: number, sinceMs: number, nowMs: number) =>
    body({
      time: new Date(sinceMs).toISOString(),
      id: randomUUID(),
      method: '-',
      host: '',
      path: '',
      status: DROPPED_LINES_STATUS,
      duration_ms: nowMs - sinceMs,
      source_ip: NO_CLIENT_ADDRESS,
      auth_method: 'none',
      reason: `${DROPPED_LINES_REASON}: ${count}`,
      bytes_in: 0,
      bytes_out: 0,
      protocol: 'http',
    });
  const writer = new LineWriter(sinkOf(stream, diagnostics), {
    batchBytes: BATCH_BYTES,
    bufferMaxBytes: settings.buffer_max_bytes,
    policy: settings.when_unwritable,
    sealer: chain,
    droppedLine,
    diagnostics,
  });
  let checkpointFile = stream.file;
  let checkpointAt = Date.now();
  const checkpoint = () => {
    checkpointFile = stream.file;
    checkpointAt = Date.now();
    writer.write(CHECKPOINT);
  };
  // At start it signs the link to the last line of the run before. While the file is unwritable a
  // checkpoint waits: it would only be held or dropped, and counted among the dropped requests.
  if (chain.signing) checkpoint();
  const checkpointDue = () => chain.signing && chain.sinceCheckpoint > 0 && writer.writable;
  const ticker = setInterval(() => {
    if (checkpointDue() && (stream.file !== checkpointFile || Date.now() - checkpointAt >= CHECKPOINT_INTERVAL_MS)) checkpoint();
    writer.flush();
  }, FLUSH_INTERVAL_MS).unref();
  return {
    write: (record) => writer.write(body(record)),
    get refusing() {
      return writer.refusing;
    },
    status: () => writer.status(),
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(ticker);
        if (stream.destroyed) return resolve();
        stream.once('close', () => resolve());
        if (checkpointDue()) checkpoint();
        writer.flush();
        if (writer.writable) return stream.end();
        // SonicBoom's end would retry the failed write forever: what cannot be written now is lost.
        diagnostics.error({ path: stream.file, ...writer.unwritten }, 'access log closed while unwritable: held lines lost');
        stream.destroy();
      }),
  };
}
