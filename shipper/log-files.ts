// The proxy's log files as they are on disk right now: every access.<N>.log in the directory, in
// the order pino-roll wrote them (increasing N), each with its device and inode: a hint to a file
// already known, not its identity (file-identity.ts).

import type { BigIntStats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ACCESS_LOG_FILE_PATTERN } from '../common/access-record.ts';
import { deviceInodeOf } from './file-identity.ts';

export interface LogFile {
  /** Device and inode now. */
  hint: string;
  name: string;
  /** The N of access.<N>.log: the order the files were written in. */
  number: number;
  path: string;
  size: number;
}

export async function listLogFiles(directory: string): Promise<LogFile[]> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    // The proxy may not have created its directory yet: nothing to read, not an error.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: LogFile[] = [];
  for (const name of names) {
    const match = ACCESS_LOG_FILE_PATTERN.exec(name);
    if (!match) continue;
    const path = join(directory, name);
    let stats: BigIntStats;
    try {
      stats = await stat(path, { bigint: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted since readdir
      throw error;
    }
    if (!stats.isFile()) continue;
    files.push({ hint: deviceInodeOf(stats), name, number: Number(match[1]), path, size: Number(stats.size) });
  }
  return files.sort((a, b) => a.number - b.number);
}
