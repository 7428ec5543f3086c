// Reads the files TailedFiles follows (tailed-files.ts: the directory walk, file identity,
// rotation, truncation and deletion) and hands out complete lines: oldest file first within a
// folder, the folders taking turns; a partial last line waits for its newline, an over-long one is
// handed out as its head, and a fragment nobody will finish as an incomplete line.
// Offsets advance in two steps: `read` when a line is handed out, `acked` when the caller
// acknowledges it; the checkpoint holds `acked`.

import type { Checkpoint, StoredCheckpoint } from './checkpoint.ts';
import type { Line, TailedFile, TailerOptions } from './tailed-file.ts';
import { TailedFiles } from './tailed-files.ts';

/** Read size, and so the longest line accepted (one byte is its newline). */
export const CHUNK_BYTES = 1024 * 1024;
/** How much of an over-long line the dead-letter file keeps. */
const TOO_LONG_HEAD_BYTES = 4096;
const NEWLINE = 0x0a;

interface Chunk {
  file: TailedFile;
  generation: number;
  base: number;
  buffer: Buffer;
  position: number;
}

export class Tailer {
  readonly #files: TailedFiles;
  #chunk: Chunk | undefined;
  #pending: Line[] = [];
  /** The folder of the last read: the next refill starts with the folder after it, so a busy writer does not hold the others up. */
  #lastFolder = '';
  /** One read buffer for the tailer's life: lines handed out are views into it, valid until the next refill. */
  readonly #buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  readonly #options: TailerOptions;

  constructor(directory: string, checkpoint: StoredCheckpoint, options: TailerOptions) {
    this.#files = new TailedFiles(directory, checkpoint, options);
    this.#options = options;
  }

  /** A truncation changed a generation: the checkpoint should be written even without new acks. */
  get checkpointDirty(): boolean {
    return this.#files.checkpointDirty;
  }

  set checkpointDirty(dirty: boolean) {
    this.#files.checkpointDirty = dirty;
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
    await this.#files.scan();
    const files = this.#files.ordered;
    const start = Math.max(0, files.findIndex((file) => file.folder > this.#lastFolder));
    for (let turn = 0; turn < files.length; turn++) {
      const file = files[(start + turn) % files.length]!;
      if (!file.handle && (file.deleted || file.read >= file.size)) continue;
      if (await this.#readFrom(file)) {
        this.#lastFolder = file.folder;
        return true;
      }
    }
    return false;
  }

  /**
   * Looks at the directory without reading: a reader held up elsewhere (a receiver away) still
   * opens new files ahead, so their deletion does not lose them, and learns of every file, so a
   * deletion before it was read is reported.
   */
  async look(): Promise<void> {
    await this.#files.scan();
  }

  acknowledge(file: TailedFile, generation: number, end: number): void {
    this.#files.acknowledge(file, generation, end);
  }

  checkpoint(): Checkpoint {
    return this.#files.checkpoint();
  }

  /** Bytes on disk not yet acknowledged. */
  lagBytes(): number {
    return this.#files.lagBytes();
  }

  async close(): Promise<void> {
    await this.#files.close();
  }

  async #readFrom(file: TailedFile): Promise<boolean> {
    if (!file.handle && !(await this.#files.open(file))) return false;
    const buffer = this.#buffer;
    const { bytesRead } = await file.handle!.read(buffer, 0, CHUNK_BYTES, file.read);
    if (bytesRead === 0) {
      if (!this.#files.live(file)) {
        await this.#files.release(file);
        if (file.deleted) {
          file.size = file.read;
          if (file.acked >= file.size) this.#files.forget(file);
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
    if (this.#files.live(file)) return false;
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
