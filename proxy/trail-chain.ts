// The proxy's end of the trail (common/trail.ts): sealing puts `seq` and `prev` into each line as it
// is accepted for writing, and hashes the line for the next one: one SHA-256 of the line's bytes,
// nothing else per line. Lines the writer drops are never sealed, so the chain has no holes; the
// dropped-count line that stands for them is sealed like any other and declares the gap.
// A checkpoint is sealed into the chain like a line, signed when a key is configured.

import { createPrivateKey, type KeyObject } from 'node:crypto';
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ACCESS_LOG_BASENAME, ACCESS_LOG_EXTENSION, ACCESS_LOG_FILE_PATTERN } from '../common/access-record.ts';
import { checkpointPayload, GENESIS_PREVIOUS, genesisSequence, keyIdOf, lineHash, signCheckpoint } from '../common/trail.ts';
import { systemClock, type Clock } from './auth/clock.ts';
import { TrailKeyError } from './errors.ts';

/** Stands for a checkpoint in the writer's queue: it is built when it is sealed, from the chain's state then. */
export const CHECKPOINT = Symbol('checkpoint');
export type Unsealed = string | typeof CHECKPOINT;

/** The last line of a chain: where the next line continues it. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export interface TrailSigner {
  key: KeyObject;
  id: string;
}

/** Longest `seq` in characters (a genesis in microseconds, and then some). */
const SEQ_DIGITS_MAX = 20;
/** Longest checkpoint body after `"prev":"…",`: time, key id, an Ed25519 signature, quotes and braces. */
const CHECKPOINT_BODY_BYTES_MAX = 200;

export class TrailChain {
  readonly #proxyId: string;
  readonly #opening: string;
  readonly #signer: TrailSigner | undefined;
  readonly #sealBytesMax: number;
  readonly #clock: Clock;
  #seq: number;
  #prev: string;
  /** Lines sealed since the last checkpoint. */
  sinceCheckpoint = 0;

  constructor(proxyId: string, head: ChainHead | undefined, signer: TrailSigner | undefined, clock: Clock = systemClock) {
    this.#proxyId = proxyId;
    this.#opening = `{"proxy":${JSON.stringify(proxyId)},"seq":`;
    this.#signer = signer;
    this.#clock = clock;
    this.#seq = head ? head.seq + 1 : genesisSequence(clock());
    this.#prev = head ? head.hash : GENESIS_PREVIOUS;
    this.#sealBytesMax = Buffer.byteLength(this.#opening) + SEQ_DIGITS_MAX + `,"prev":"${GENESIS_PREVIOUS}",`.length + 1;
  }

  get signing(): boolean {
    return this.#signer !== undefined;
  }

  /** `body` is a record's JSON without its opening brace; the sealed line ends with its newline. */
  seal(item: Unsealed): string {
    const body = item === CHECKPOINT ? this.#checkpointBody() : item;
    const text = `${this.#opening}${this.#seq},"prev":"${this.#prev}",${body}`;
    this.#prev = lineHash(text);
    this.#seq++;
    this.sinceCheckpoint = item === CHECKPOINT ? 0 : this.sinceCheckpoint + 1;
    return `${text}\n`;
  }

  /** Bytes `item` takes once sealed, at most: the writer bounds what it holds before sealing. */
  sealedBytesAtMost(item: Unsealed): number {
    return this.#sealBytesMax + (item === CHECKPOINT ? CHECKPOINT_BODY_BYTES_MAX : Buffer.byteLength(item));
  }

  #checkpointBody(): string {
    const signer = this.#signer!;
    const time = new Date(this.#clock()).toISOString();
    const signature = signCheckpoint(signer.key, checkpointPayload(this.#proxyId, this.#seq, this.#prev, time, signer.id));
    return `"checkpoint":${JSON.stringify({ time, key: signer.id, signature })}}`;
  }
}

/** The Ed25519 private key of `access_log.signing_key_file`, made by `npm run trail-key`. */
export async function loadTrailSigner(file: string): Promise<TrailSigner> {
  let key: KeyObject;
  try {
    key = createPrivateKey(await readFile(file));
  } catch (error) {
    throw new TrailKeyError(`access_log.signing_key_file ${file}: not a readable private key (${(error as Error).message})`, { cause: error });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new TrailKeyError(`access_log.signing_key_file ${file}: an Ed25519 key is required, this one is ${key.asymmetricKeyType}`);
  }
  return { key, id: keyIdOf(key) };
}

const TAIL_CHUNK_BYTES = 65_536;

/** The last complete line of a file (without its newline), or undefined when it has none. */
async function lastLine(path: string): Promise<Buffer | undefined> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    let tail = Buffer.alloc(0);
    let end = -1;
    for (let position = size; position > 0; ) {
      const length = Math.min(TAIL_CHUNK_BYTES, position);
      position -= length;
      const chunk = Buffer.alloc(length);
      await handle.read(chunk, 0, length, position);
      tail = Buffer.concat([chunk, tail]);
      // A fragment after the last newline is the rest of an append a crash cut short: not a line.
      if (end !== -1) end += length;
      else if ((end = tail.lastIndexOf(0x0a)) === -1) continue;
      const start = end === 0 ? -1 : tail.lastIndexOf(0x0a, end - 1);
      if (start !== -1) return tail.subarray(start + 1, end);
      if (position === 0) return tail.subarray(0, end);
    }
    return undefined;
  } finally {
    await handle.close();
  }
}

/**
 * Where this proxy's chain continues after a restart: the last complete line of the newest log file
 * that has one. Undefined (a new chain) when there is none, or it is not a chained line of this proxy.
 */
export async function readChainHead(dir: string, proxyId: string): Promise<ChainHead | undefined> {
  const numbers = (await readdir(dir))
    .map((name) => ACCESS_LOG_FILE_PATTERN.exec(name))
    .filter((match) => match !== null)
    .map((match) => Number(match[1]))
    .sort((a, b) => b - a);
  for (const number of numbers) {
    const line = await lastLine(join(dir, `${ACCESS_LOG_BASENAME}.${number}.${ACCESS_LOG_EXTENSION}`));
    if (line === undefined) continue;
    let value: { proxy?: unknown; seq?: unknown };
    try {
      value = JSON.parse(line.toString('utf8'));
    } catch {
      return undefined;
    }
    if (value.proxy !== proxyId || typeof value.seq !== 'number') return undefined;
    return { seq: value.seq, hash: lineHash(line) };
  }
  return undefined;
}
