// Follows every access.<N>.log of a directory, oldest first, by file identity and byte offset:
// complete lines only (a partial last line waits for its newline), files that appear or rotate at
// any time, truncation (a new generation of the file, read from 0) and deletion (a file still open
// is read to its end; bytes of a file deleted before it was read are reported as lost).
// Offsets advance in two steps: `read` when a line is handed out, `acked` when the caller
// acknowledges it; the checkpoint holds `acked`.

import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { Checkpoint, CheckpointEntry } from './checkpoint.ts';
import { identityOf, listLogFiles } from './log-files.ts';

/** Read size, and so the longest line accepted (one byte is its newline). */
export const CHUNK_BYTES = 1024 * 1024;
/** How much of an over-long line the dead-letter file keeps. */
const TOO_LONG_HEAD_BYTES = 4096;
/** Files kept open ahead of the reader, so a rotation that deletes them does not lose them. */
const MAX_OPEN_FILES = 64;
const NEWLINE = 0x0a;

export interface TailedFile {
  identity: string;
  name: string;
  number: number;
  path: string;
  /** Bumped each time the file is found shorter than what was read: its offsets start over. */
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

interface Chunk {
  file: TailedFile;
  generation: number;
  base: number;
  buffer: Buffer;
  position: number;
}

export class Tailer {
  readonly #directory: string;
  readonly #options: TailerOptions;
  readonly #files = new Map<string, TailedFile>();
  #ordered: TailedFile[] = [];
  #saved: Map<string, CheckpointEntry> | undefined;
  #chunk: Chunk | undefined;
  #pending: Line[] = [];
  #newestNumber = -1;
  /** One read buffer for the tailer's life: lines handed out are views into it, valid until the next refill. */
  readonly #buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  /** A truncation changed a generation: the checkpoint should be written even without new acks. */
  checkpointDirty = false;

  constructor(directory: string, checkpoint: Checkpoint, options: TailerOptions) {
    this.#directory = directory;
    this.#options = options;
    this.#saved = new Map(Object.entries(checkpoint.files));
  }

  /**
   * The next complete line already read, or undefined when `refill` must read more. Its bytes are a
   * view into the read buffer: use them before calling `refill` again.
   */
  takeLine(): Line | undefined {
    if (this.#pending.length > 0) return this.#pending.shift();
    const chunk = this.#chunk;
    if (!chunk) return undefined;
    const { buffer, position } = chunk;
    if (position >= buffer.length) {
      this.#chunk = undefined;
      return undefined;
    }
    const newline = buffer.indexOf(NEWLINE, position);
    chunk.position = newline + 1;
    return {
      file: chunk.file,
      generation: chunk.generation,
      offset: chunk.base + position,
      end: chunk.base + newline + 1,
      bytes: buffer.subarray(position, newline),
    };
  }

  /** Looks at the directory and reads the next chunk of the oldest file with unread bytes. */
  async refill(): Promise<boolean> {
    if (this.#chunk || this.#pending.length > 0) return true;
    await this.#scan();
    for (const file of this.#ordered) {
      if (!file.handle && (file.deleted || file.read >= file.size)) continue;
      if (await this.#readFrom(file)) return true;
    }
    return false;
  }

  acknowledge(file: TailedFile, generation: number, end: number): void {
    if (file.generation !== generation || end <= file.acked) return;
    file.acked = end;
    if (file.deleted && !file.handle && file.acked >= file.size) this.#forget(file);
  }

  checkpoint(): Checkpoint {
    const files: Record<string, CheckpointEntry> = {};
    for (const file of this.#files.values()) {
      files[file.identity] = { name: file.name, generation: file.generation, offset: file.acked, size: file.size };
    }
    return { version: 1, files };
  }

  /** Bytes on disk not yet acknowledged. */
  lagBytes(): number {
    let lag = 0;
    for (const file of this.#files.values()) lag += Math.max(0, file.size - file.acked);
    return lag;
  }

  async close(): Promise<void> {
    for (const file of this.#files.values()) await this.#release(file);
  }

  async #scan(): Promise<void> {
    const listed = await listLogFiles(this.#directory);
    const present = new Set<string>();
    for (const entry of listed) {
      present.add(entry.identity);
      let file = this.#files.get(entry.identity);
      if (!file) {
        const saved = this.#saved?.get(entry.identity);
        const offset = saved?.offset ?? 0;
        file = { ...entry, name: saved?.name ?? entry.name, generation: saved?.generation ?? 0, acked: offset, read: offset, size: saved?.size ?? entry.size, deleted: false };
        this.#files.set(entry.identity, file);
      }
      // pino-roll never renames: the same inode under another name is a new file reusing it.
      if (file.name !== entry.name) this.#startOver(file, entry.size, 'deleted');
      file.name = entry.name;
      file.number = entry.number;
      file.path = entry.path;
      if (entry.size < file.read) this.#startOver(file, entry.size, 'truncated');
      file.size = entry.size;
    }
    if (this.#saved) {
      // Files of the last run that are gone: deleted (by pino-roll's retention) while we were stopped.
      for (const [identity, saved] of this.#saved) {
        if (present.has(identity)) continue;
        if (saved.size > saved.offset) this.#options.onLoss({ name: saved.name, identity, bytes: saved.size - saved.offset, cause: 'deleted' });
        this.checkpointDirty = true;
      }
      this.#saved = undefined;
    }
    for (const file of this.#files.values()) {
      if (present.has(file.identity) || file.deleted) continue;
      file.deleted = true;
      if (!file.handle) {
        // Never opened (or closed at its end): what was not read is gone with it.
        if (file.size > file.read) this.#options.onLoss({ name: file.name, identity: file.identity, bytes: file.size - file.read, cause: 'deleted' });
        file.size = file.read;
        if (file.acked >= file.size) this.#forget(file);
      }
    }
    this.#ordered = [...this.#files.values()].sort((a, b) => a.number - b.number);
    this.#newestNumber = listed.length > 0 ? listed.at(-1)!.number : -1;
    await this.#openAhead();
  }

  async #openAhead(): Promise<void> {
    let open = this.#ordered.filter((file) => file.handle).length;
    for (const file of this.#ordered) {
      if (open >= MAX_OPEN_FILES) return;
      if (file.handle || file.deleted || file.read >= file.size) continue;
      if (await this.#open(file)) open++;
    }
  }

  async #open(file: TailedFile): Promise<boolean> {
    let handle: FileHandle;
    try {
      handle = await open(file.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    if (identityOf(await handle.stat({ bigint: true })) !== file.identity) {
      await handle.close(); // the name now belongs to another file; the next scan sorts it out
      return false;
    }
    file.handle = handle;
    return true;
  }

  async #release(file: TailedFile): Promise<void> {
    const handle = file.handle;
    file.handle = undefined;
    await handle?.close();
  }

  #forget(file: TailedFile): void {
    this.#files.delete(file.identity);
    this.#ordered = this.#ordered.filter((other) => other !== file);
  }

  /** The file's bytes were replaced (truncated, or its inode reused): read it anew as a new generation. */
  #startOver(file: TailedFile, size: number, cause: LossReport['cause']): void {
    const unread = file.size - file.read;
    if (unread > 0) this.#options.onLoss({ name: file.name, identity: file.identity, bytes: unread, cause });
    file.generation++;
    file.read = 0;
    file.acked = 0;
    file.size = size;
    file.partial = undefined;
    file.skipping = undefined;
    this.checkpointDirty = true;
    if (cause === 'truncated') this.#options.onTruncated?.(file);
  }

  /** Whether the proxy may still append to this file: it is the newest one and still there. */
  #live(file: TailedFile): boolean {
    return !file.deleted && file.number >= this.#newestNumber;
  }

  async #readFrom(file: TailedFile): Promise<boolean> {
    if (!file.handle && !(await this.#open(file))) return false;
    const buffer = this.#buffer;
    const { bytesRead } = await file.handle!.read(buffer, 0, CHUNK_BYTES, file.read);
    if (bytesRead === 0) {
      if (!this.#live(file)) {
        await this.#release(file);
        if (file.deleted) {
          file.size = file.read;
          if (file.acked >= file.size) this.#forget(file);
        }
      }
      return false;
    }
    if (file.skipping) return this.#skip(file, buffer, bytesRead);
    const last = buffer.lastIndexOf(NEWLINE, bytesRead - 1);
    if (last >= 0) {
      file.partial = undefined;
      this.#chunk = { file, generation: file.generation, base: file.read, buffer: buffer.subarray(0, last + 1), position: 0 };
      file.read += last + 1;
      return true;
    }
    if (bytesRead === CHUNK_BYTES) {
      file.skipping = { from: file.read, head: Buffer.from(buffer.subarray(0, TOO_LONG_HEAD_BYTES)) };
      file.read += bytesRead;
      return true;
    }
    return this.#trailingFragment(file, buffer.subarray(0, bytesRead));
  }

  #skip(file: TailedFile, buffer: Buffer, bytesRead: number): boolean {
    const newline = buffer.subarray(0, bytesRead).indexOf(NEWLINE);
    if (newline < 0) {
      file.read += bytesRead;
      return true;
    }
    const { from, head } = file.skipping!;
    file.skipping = undefined;
    file.read += newline + 1;
    this.#pending.push({ file, generation: file.generation, offset: from, end: file.read, bytes: head, problem: 'too-long' });
    return true;
  }

  /**
   * A fragment without newline at the end of a file. In the live file it is a line being written:
   * wait. In a file nobody writes to any more (rotated away or deleted) it will never end: after a
   * grace period it is handed out as an incomplete line, so the reader does not stall on it.
   */
  #trailingFragment(file: TailedFile, fragment: Buffer): boolean {
    if (this.#live(file)) return false;
    const now = Date.now();
    if (!file.partial || file.partial.bytes !== fragment.length) {
      file.partial = { since: now, bytes: fragment.length };
      return false;
    }
    if (now - file.partial.since < (this.#options.partialGraceMs ?? 5_000)) return false;
    file.partial = undefined;
    const offset = file.read;
    file.read += fragment.length;
    this.#pending.push({ file, generation: file.generation, offset, end: file.read, bytes: Buffer.from(fragment), problem: 'incomplete' });
    return true;
  }
}
