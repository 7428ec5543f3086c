// Writes the benchmark's access log: N records of the test generator's shape, split into
// access.<N>.log files as pino-roll would leave them.

import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { accessLogName, recordLine, testRecord } from '../../../test/helpers/records.ts';

const WRITE_BATCH = 10_000;

export async function writeLogs(directory: string, lines: number, linesPerFile: number): Promise<{ files: number; bytes: number }> {
  await mkdir(directory, { recursive: true });
  let bytes = 0;
  let files = 0;
  for (let first = 0; first < lines; first += linesPerFile) {
    files++;
    const file = await open(join(directory, accessLogName(files)), 'w');
    const last = Math.min(lines, first + linesPerFile);
    for (let i = first; i < last; i += WRITE_BATCH) {
      let text = '';
      for (let j = i; j < Math.min(last, i + WRITE_BATCH); j++) text += recordLine(testRecord(j));
      bytes += Buffer.byteLength(text);
      await file.write(text);
    }
    await file.close();
  }
  return { files, bytes };
}
