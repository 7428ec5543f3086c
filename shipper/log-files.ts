// The proxy's log files as they are on disk right now: every access.<N>.log in the directory and in
// its worker folders (worker-<K>/, one per worker process of the proxy: common/access-record.ts),
// each folder in the order pino-roll wrote its files (increasing N), each file with its device and
// inode: a hint to a file already known, not its identity (file-identity.ts).

import type { BigIntStats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ACCESS_LOG_FILE_PATTERN, WORKER_LOG_DIR_PATTERN } from '../common/access-record.ts';
import { deviceInodeOf } from './file-identity.ts';

export interface LogFile {
  /** Device and inode now. */
  hint: string;
  /** The path from the log directory: `access.3.log`, `worker-2/access.3.log`. */
  name: string;
  /** The worker folder it is in, '' for the directory itself: each folder is one writer's sequence of files. */
  folder: string;
  /** The N of access.<N>.log: the order the files of its folder were written in. */
  number: number;
  path: string;
  size: number;
}

async function namesIn(directory: string): Promise<string[]> {
  try {
    return await readdir(directory);
  } catch (error) {
    // The proxy may not have created its directory yet: nothing to read, not an error.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

async function filesIn(directory: string, folder: string, names: string[]): Promise<LogFile[]> {
  const files: LogFile[] = [];
  for (const name of names) {
    const match = ACCESS_LOG_FILE_PATTERN.exec(name);
    if (!match) continue;
    const path = join(directory, folder, name);
    let stats: BigIntStats;
    try {
      stats = await stat(path, { bigint: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted since readdir
      throw error;
    }
    if (!stats.isFile()) continue;
    files.push({ hint: deviceInodeOf(stats), name: folder === '' ? name : `${folder}/${name}`, folder, number: Number(match[1]), path, size: Number(stats.size) });
  }
  return files;
}

/** Folder by folder, each in the order its files were written. */
export function writingOrder(a: Pick<LogFile, 'folder' | 'number'>, b: Pick<LogFile, 'folder' | 'number'>): number {
  return a.folder === b.folder ? a.number - b.number : a.folder < b.folder ? -1 : 1;
}

/** In `writingOrder`. */
export async function listLogFiles(directory: string): Promise<LogFile[]> {
  const names = await namesIn(directory);
  const files = await filesIn(directory, '', names);
  for (const folder of names.filter((name) => WORKER_LOG_DIR_PATTERN.test(name))) files.push(...(await filesIn(directory, folder, await namesIn(join(directory, folder)))));
  return files.sort(writingOrder);
}
