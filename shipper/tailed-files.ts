// The files a tailer follows (tailer.ts), found by walking the log directory and its worker folders
// (log-files.ts): each known by its identity (a fingerprint of its first line: file-identity.ts),
// matched at every scan to what is listed. A file shorter than what was read is a new generation
// of it, read from 0; one whose first line changed is a new file; a file still open when deleted
// is read to its end, and bytes of a file deleted before it was read are reported as lost. Device
// and inode only spare re-reading the start of a file already identified. Holds the acknowledged
// offsets the checkpoint is made of.

import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Checkpoint, CheckpointEntry, StoredCheckpoint } from './checkpoint.ts';
import { deviceInodeOf, identifyFile } from './file-identity.ts';
import { listLogFiles, writingOrder, type LogFile } from './log-files.ts';
import type { TailedFile, TailerOptions } from './tailed-file.ts';

/** Files kept open ahead of the reader, so a rotation that deletes them does not lose them. */
const MAX_OPEN_FILES = 64;

export class TailedFiles {
  readonly #directory: string;
  readonly #options: TailerOptions;
  readonly #files = new Map<string, TailedFile>();
  /** The same files by device and inode. */
  readonly #byHint = new Map<string, TailedFile>();
  /** Oldest first within a folder (writing order), as of the last scan. */
  ordered: TailedFile[] = [];
  /** Entries of the checkpoint the tailer started from, until the first scan has matched them to files. */
  #saved: Map<string, CheckpointEntry> | undefined;
  /** The same, from a checkpoint keyed by device:inode (version 1), for the migration. */
  #legacy: Map<string, CheckpointEntry> | undefined;
  /** The newest N of each folder: the file its writer may still append to. */
  #newest = new Map<string, number>();
  /** A truncation changed a generation: the checkpoint should be written even without new acks. */
  checkpointDirty = false;

  constructor(directory: string, checkpoint: StoredCheckpoint, options: TailerOptions) {
    this.#directory = directory;
    this.#options = options;
    const saved = new Map(Object.entries(checkpoint.files));
    if (checkpoint.version === 2) this.#saved = saved;
    else {
      this.#legacy = saved;
      this.checkpointDirty = true; // written as version 2 even before any new line
    }
  }

  acknowledge(file: TailedFile, generation: number, end: number): void {
    if (file.generation !== generation || end <= file.acked) return;
    file.acked = end;
    if (file.deleted && !file.handle && file.acked >= file.size) this.forget(file);
  }

  checkpoint(): Checkpoint {
    const files: Record<string, CheckpointEntry> = {};
    for (const file of this.#files.values()) {
      files[file.identity] = { name: file.name, generation: file.generation, offset: file.acked, size: file.size };
    }
    return { version: 2, files };
  }

  /** Bytes on disk not yet acknowledged. */
  lagBytes(): number {
    let lag = 0;
    for (const file of this.#files.values()) lag += Math.max(0, file.size - file.acked);
    return lag;
  }

  async close(): Promise<void> {
    for (const file of this.#files.values()) await this.release(file);
  }

  /** Lists the directory: new files, renames, truncations, deletions; opens files ahead of the reader. */
  async scan(): Promise<void> {
    const listed = await listLogFiles(this.#directory);
    this.#newest.clear();
    for (const entry of listed) this.#newest.set(entry.folder, entry.number);
    const present = new Set<TailedFile>();
    /** Known files whose bytes were replaced under the same name and inode (truncated below their first line). */
    const replaced = new Set<TailedFile>();
    for (const entry of listed) {
      const match = await this.#match(entry, replaced);
      if (!match || present.has(match.file)) continue; // no identity yet, or a second copy of a file already listed
      const { file, hint } = match;
      present.add(file);
      if (file.hint !== hint || this.#byHint.get(hint) !== file) {
        if (this.#byHint.get(file.hint) === file) this.#byHint.delete(file.hint);
        file.hint = hint;
        this.#byHint.set(hint, file);
      }
      file.name = entry.name;
      file.folder = entry.folder;
      file.number = entry.number;
      file.path = entry.path;
      file.deleted = false;
      if (entry.size < file.read) this.#startOver(file, entry.size);
      file.size = entry.size;
    }
    this.#reportUnmatched();
    for (const file of this.#files.values()) {
      if (present.has(file)) continue;
      if (replaced.has(file)) {
        // Its bytes are gone from under its handle too: what was not read is lost.
        await this.release(file);
        if (file.size > file.read) this.#options.onLoss({ name: file.name, identity: file.identity, bytes: file.size - file.read, cause: 'truncated' });
        this.#options.onTruncated?.(file);
        this.forget(file);
        this.checkpointDirty = true;
        continue;
      }
      if (file.deleted) continue;
      file.deleted = true;
      if (!file.handle) {
        // Never opened (or closed at its end): what was not read is gone with it.
        if (file.size > file.read) this.#options.onLoss({ name: file.name, identity: file.identity, bytes: file.size - file.read, cause: 'deleted' });
        file.size = file.read;
        if (file.acked >= file.size) this.forget(file);
      }
    }
    this.ordered = [...this.#files.values()].sort(writingOrder);
    await this.#openAhead();
  }

  /**
   * The known file a listed one is, or a new one, with its device and inode; undefined while it has
   * no identity. Device and inode answer for a file already identified under the same name that has
   * not shrunk; anything else is fingerprinted.
   */
  async #match(entry: LogFile, replaced: Set<TailedFile>): Promise<{ file: TailedFile; hint: string } | undefined> {
    const hinted = this.#byHint.get(entry.hint);
    const sameName = hinted?.name === entry.name;
    if (hinted && sameName && entry.size >= hinted.size) return { file: hinted, hint: entry.hint };
    const found = entry.size === 0 ? undefined : await identifyFile(entry.path, entry.number < this.#newest.get(entry.folder)!);
    // Under another name, other content is a new file reusing the inode: the old one was deleted.
    if (hinted && sameName && hinted.identity !== found?.identity) replaced.add(hinted);
    if (!found) return undefined;
    const known = this.#files.get(found.identity);
    if (known) return { file: known, hint: found.hint };
    const saved = this.#takeSaved(found.identity, entry.name, found.hint);
    const offset = saved?.offset ?? 0;
    const file: TailedFile = {
      identity: found.identity,
      hint: found.hint,
      name: saved?.name ?? entry.name,
      folder: entry.folder,
      number: entry.number,
      path: entry.path,
      generation: saved?.generation ?? 0,
      acked: offset,
      read: offset,
      size: saved?.size ?? found.size,
      deleted: false,
    };
    this.#files.set(file.identity, file);
    return { file, hint: found.hint };
  }

  /** The checkpoint entry of a file seen for the first time since the start, if it has one. */
  #takeSaved(identity: string, name: string, hint: string): CheckpointEntry | undefined {
    const saved = this.#saved?.get(identity);
    if (saved) {
      this.#saved!.delete(identity);
      return saved;
    }
    // Version 1 knew files by device and inode; an inode under another name was a new file reusing it.
    const legacy = this.#legacy?.get(hint);
    if (legacy?.name !== name) return undefined;
    this.#legacy!.delete(hint);
    return legacy;
  }

  /** Files of the last run that the first scan did not find: deleted (by pino-roll's retention) while we were stopped. */
  #reportUnmatched(): void {
    for (const saved of [this.#saved, this.#legacy]) {
      if (!saved) continue;
      for (const [identity, entry] of saved) {
        if (entry.size > entry.offset) this.#options.onLoss({ name: entry.name, identity, bytes: entry.size - entry.offset, cause: 'deleted' });
        this.checkpointDirty = true;
      }
    }
    this.#saved = undefined;
    this.#legacy = undefined;
  }

  async #openAhead(): Promise<void> {
    let open = this.ordered.filter((file) => file.handle).length;
    for (const file of this.ordered) {
      if (open >= MAX_OPEN_FILES) return;
      if (file.handle || file.deleted || file.read >= file.size) continue;
      if (await this.open(file)) open++;
    }
  }

  async open(file: TailedFile): Promise<boolean> {
    let handle: FileHandle;
    try {
      handle = await open(file.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    if (deviceInodeOf(await handle.stat({ bigint: true })) !== file.hint) {
      await handle.close(); // the name now belongs to another file; the next scan sorts it out
      return false;
    }
    file.handle = handle;
    return true;
  }

  async release(file: TailedFile): Promise<void> {
    const handle = file.handle;
    file.handle = undefined;
    await handle?.close();
  }

  forget(file: TailedFile): void {
    if (this.#files.get(file.identity) === file) this.#files.delete(file.identity);
    if (this.#byHint.get(file.hint) === file) this.#byHint.delete(file.hint);
    this.ordered = this.ordered.filter((other) => other !== file);
  }

  /** The file was truncated and written again from its same first line: read it anew as a new generation. */
  #startOver(file: TailedFile, size: number): void {
    const unread = file.size - file.read;
    if (unread > 0) this.#options.onLoss({ name: file.name, identity: file.identity, bytes: unread, cause: 'truncated' });
    file.generation++;
    file.read = 0;
    file.acked = 0;
    file.size = size;
    file.partial = undefined;
    file.skipping = undefined;
    this.checkpointDirty = true;
    this.#options.onTruncated?.(file);
  }

  /** Whether the proxy may still append to this file: it is the newest one and still there. */
  live(file: TailedFile): boolean {
    return !file.deleted && file.number >= (this.#newest.get(file.folder) ?? -1);
  }
}
