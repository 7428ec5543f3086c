// What the tailer knows of each log file it follows, and what it hands out: lines with their file,
// generation and byte offsets, and reports of bytes lost before they were read.

import type { FileHandle } from 'node:fs/promises';

export interface TailedFile {
  /** The content fingerprint. */
  identity: string;
  /** Device and inode when last identified. */
  hint: string;
  name: string;
  folder: string;
  number: number;
  path: string;
  /** Bumped each time the file is found shorter than what was read, its first line unchanged: its offsets start over. */
  generation: number;
  acked: number;
  read: number;
  size: number;
  handle?: FileHandle;
  deleted: boolean;
  /** A trailing fragment without newline in a file nobody writes to any more: since when, how long. */
  partial?: { since: number; bytes: number };
  /** An over-long line being skipped: where it started and its first bytes. */
  skipping?: { from: number; head: Buffer };
}

export type LineProblem = 'too-long' | 'incomplete';

export interface Line {
  file: TailedFile;
  generation: number;
  offset: number;
  /** Offset just past the line and its newline. */
  end: number;
  /** The line without its newline (only its head when too long). */
  bytes: Buffer;
  problem?: LineProblem;
}

export interface LossReport {
  name: string;
  identity: string;
  bytes: number;
  cause: 'deleted' | 'truncated';
}

export interface TailerOptions {
  /** How long a trailing fragment of a finished file waits for its newline before it is given up. */
  partialGraceMs?: number;
  onLoss(report: LossReport): void;
  onTruncated?(file: TailedFile): void;
}
