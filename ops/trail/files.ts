// verify-trail over a log directory: every access.<N>.log in order of N, line by line, in the order
// the proxy wrote them (a proxy with workers writes a folder per worker, each its own chain). The
// oldest file left after rotation deleted the ones before it starts at a cut: its first line's link
// points into a deleted file, and is not checked.

import { readFile, stat } from 'node:fs/promises';
import { listLogFiles } from '../../shipper/log-files.ts';
import { readTrailLine } from './entries.ts';
import { verifyChain, type TrailEntry, type TrustedKeys, type Verification } from './verifier.ts';

export async function verifyFiles(dir: string, keys: TrustedKeys, into: Verification): Promise<void> {
  await stat(dir); // a directory that is not there is an error, not a trail without lines
  const byProxy = new Map<string, TrailEntry[]>();
  for (const { name, path } of await listLogFiles(dir)) {
    const bytes = await readFile(path);
    let start = 0;
    for (let lineNumber = 1; start < bytes.length; lineNumber++) {
      const newline = bytes.indexOf(0x0a, start);
      const where = `${name} line ${lineNumber}`;
      if (newline === -1) {
        into.notices.push({ detail: `${where}: ${bytes.length - start} bytes without a newline at the end (an append a crash cut short, or being written)` });
        break;
      }
      const read = readTrailLine(bytes.subarray(start, newline), where);
      start = newline + 1;
      if (!read.ok) {
        into.findings.push({ kind: 'altered', proxy: read.proxy ?? '?', ...(read.seq === undefined ? {} : { seq: read.seq }), where, detail: `${read.detail}: not a line the proxy wrote` });
        continue;
      }
      const entries = byProxy.get(read.entry.proxy) ?? [];
      entries.push(read.entry);
      byProxy.set(read.entry.proxy, entries);
    }
  }
  for (const [proxy, entries] of byProxy) verifyChain(proxy, entries, keys, true, into);
}
