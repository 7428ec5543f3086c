// What makes a log file the same file wherever it is: a fingerprint of its content, not where it
// lies. Device and inode numbers change when the directory is copied, restored from a backup,
// moved with a container or remounted; the bytes a log file starts with do not, because the proxy
// only ever appends. The fingerprint is the SHA-256 of the file's first line with its newline, or
// of its first FINGERPRINT_BYTES bytes when that line is longer.
//
// The first line, not a fixed byte count: a fixed count (Filebeat's 1024 by default) leaves a fresh
// file unread until it holds that many bytes, and the proxy's lines are a few hundred bytes, so at
// a quiet hour a request would wait for the next ones before it is indexed. A complete first line
// already names one request (its proxy id, millisecond time and unique request id come first), and
// no line can be read before it is complete anyway, so waiting for it delays nothing. The identity
// is fixed as soon as the line ends and never changes as the file grows.
//
// A file without a complete first line and shorter than FINGERPRINT_BYTES has no identity yet and
// is left alone, unless nobody writes to it any more (a newer file exists): its content is then
// final and the fingerprint covers all of it, so its fragment can still be given up as a dead letter.

import type { BigIntStats } from 'node:fs';
import { hash } from 'node:crypto';
import { open } from 'node:fs/promises';

/**
 * The most of a file's start that is hashed. 1 KiB holds the first line whole (a record is a few
 * hundred bytes, its User-Agent is capped at 512 characters) and costs one small read per new file.
 */
export const FINGERPRINT_BYTES = 1024;
const NEWLINE = 0x0a;

export interface FileIdentity {
  /** The content fingerprint: what checkpoints, document ids and dead letters name the file by. */
  identity: string;
  /** Device and inode when it was fingerprinted. */
  hint: string;
  size: number;
}

/**
 * Device and inode: a hint to recognise a file already fingerprinted without reading it again,
 * never its identity.
 */
export function deviceInodeOf(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}`;
}

/** The fingerprint of a file that starts with `start` (its first bytes, as many as it has up to FINGERPRINT_BYTES). */
export function fingerprintOf(start: Buffer, final: boolean): string | undefined {
  const newline = start.indexOf(NEWLINE);
  if (newline >= 0) return hash('sha256', start.subarray(0, newline + 1), 'hex');
  if (start.length >= FINGERPRINT_BYTES || (final && start.length > 0)) return hash('sha256', start.subarray(0, FINGERPRINT_BYTES), 'hex');
  return undefined;
}

/**
 * Fingerprints the file at `path` (its hint and size from the same open file, so they describe
 * the bytes that were hashed). Undefined when it has no identity yet or is gone. `final`: nobody
 * appends to it any more.
 */
export async function identifyFile(path: string, final = false): Promise<FileIdentity | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const stats = await handle.stat({ bigint: true });
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(FINGERPRINT_BYTES), 0, FINGERPRINT_BYTES, 0);
    const identity = fingerprintOf(buffer.subarray(0, bytesRead), final);
    return identity === undefined ? undefined : { identity, hint: deviceInodeOf(stats), size: Number(stats.size) };
  } finally {
    await handle.close();
  }
}
