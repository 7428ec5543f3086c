// Writes the benchmark's access log: N records of the test generator's shape, split into
// access.<N>.log files as pino-roll would leave them. Clients come from a pool of public addresses
// (a busy site's worth), so geo lookups cost what they would in production, memo misses included.

import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { accessLogName, recordLine, testRecord } from '../../../test/helpers/records.ts';

const WRITE_BATCH = 10_000;
const CLIENT_ADDRESSES = 20_000;
/** First octets of public unicast space (no 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.168/16). */
export const FIRST_OCTETS = [2, 5, 23, 31, 37, 41, 45, 46, 62, 77, 78, 80, 81, 82, 84, 85, 86, 88, 89, 91, 93, 94, 95, 104, 109, 176, 178, 185, 188, 193, 194, 195, 212, 213, 217];

/** A deterministic public address for client number n. */
function clientAddress(n: number): string {
  const k = Math.imul(n + 1, 2654435761) >>> 0;
  return `${FIRST_OCTETS[k % FIRST_OCTETS.length]}.${(k >>> 8) & 255}.${(k >>> 16) & 255}.${1 + ((k >>> 24) % 254)}`;
}

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
      for (let j = i; j < Math.min(last, i + WRITE_BATCH); j++) {
        // Zipf-like: a few clients send most requests.
        const client = Math.floor(CLIENT_ADDRESSES * Math.random() ** 3);
        text += recordLine(testRecord(j, { overrides: { source_ip: clientAddress(client) } }));
      }
      bytes += Buffer.byteLength(text);
      await file.write(text);
    }
    await file.close();
  }
  return { files, bytes };
}
