// The checkpoint: for each log file still on disk, by content fingerprint (file-identity.ts), the
// offset just past the last line that Elasticsearch acknowledged (or that went to the dead-letter
// file). Replaced atomically (common/replace-file.ts), so a crash leaves either the old or the new
// checkpoint, never a torn one.

import { mkdir, readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ProxyAccessLogError } from '../common/errors.ts';
import { describeFileError } from '../common/file-errors.ts';
import { replaceFile } from '../common/replace-file.ts';

export class CheckpointError extends ProxyAccessLogError {
  readonly code = 'SHIPPER_CHECKPOINT_INVALID';
}

/**
 * The state directory refused a write. Going on would mean acknowledging lines whose progress is
 * not saved (read again and re-sent after a restart) or whose dead letters are lost: the shipper
 * stops with STATE_UNWRITABLE_EXIT_CODE instead.
 */
export class StateWriteError extends ProxyAccessLogError {
  readonly code = 'SHIPPER_STATE_UNWRITABLE';
  readonly path: string;
  readonly problem: string;
  constructor(what: string, path: string, cause: unknown) {
    const words = describeFileError(cause);
    super(`cannot write the ${what} ${path}: ${words}`, { cause });
    this.path = path;
    this.problem = words;
  }
}

/** The shipper's exit code when its state cannot be written (1 is a bad configuration). */
export const STATE_UNWRITABLE_EXIT_CODE = 3;

/** Runs a write of the state directory; its failure becomes a StateWriteError naming `what` and `path`. */
export async function writingState<T>(what: string, path: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw new StateWriteError(what, path, error);
  }
}

const entrySchema = z.object({
  /** File name when last seen, for people reading the checkpoint and for loss reports. */
  name: z.string(),
  generation: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  /** Size when last seen: what was lost if the file disappears before it is read. */
  size: z.number().int().nonnegative(),
});

const checkpointSchema = z.object({ version: z.literal(2), files: z.record(z.string(), entrySchema) });
/**
 * Version 1 keyed the same entries by device:inode. It is read once and migrated by the tailer's
 * first scan, which finds each entry's file by device, inode and name and carries its offset over
 * to the file's fingerprint; the next save writes version 2.
 */
const legacyCheckpointSchema = z.object({ version: z.literal(1), files: z.record(z.string(), entrySchema) });
const storedCheckpointSchema = z.discriminatedUnion('version', [checkpointSchema, legacyCheckpointSchema]);

export type CheckpointEntry = z.infer<typeof entrySchema>;
export type Checkpoint = z.infer<typeof checkpointSchema>;
export type StoredCheckpoint = z.infer<typeof storedCheckpointSchema>;

export const CHECKPOINT_FILE = 'checkpoint.json';

export function emptyCheckpoint(): Checkpoint {
  return { version: 2, files: {} };
}

export async function loadCheckpoint(path: string): Promise<StoredCheckpoint> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyCheckpoint();
    throw error;
  }
  try {
    return storedCheckpointSchema.parse(JSON.parse(text));
  } catch (error) {
    throw new CheckpointError(`checkpoint ${path} is unreadable (${(error as Error).message}); move it away to start over`);
  }
}

export async function saveCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  await writingState('checkpoint', path, () => replaceFile(path, JSON.stringify(checkpoint)));
}

export async function ensureStateDirectory(path: string): Promise<void> {
  await writingState('state directory', path, () => mkdir(path, { recursive: true }));
}
