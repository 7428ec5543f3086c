// The end-of-run reckoning by request id: every line the proxies wrote (their access-log files)
// against every document in the cluster. A line without a document is missing; a request id with
// more than one document is a duplicate.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { FIELD, indexPattern } from '../../../common/proxy-event-document.ts';

const PAGE = 10_000;
const PIT_KEEP_ALIVE = '1m';

/** The request id of every line in a proxy's access-log directory. */
export async function writtenIds(logDir: string): Promise<string[]> {
  const ids: string[] = [];
  for (const name of (await readdir(logDir)).filter((file) => file.endsWith('.log'))) {
    for (const line of (await readFile(join(logDir, name), 'utf8')).split('\n')) {
      if (line) ids.push((JSON.parse(line) as { id: string }).id);
    }
  }
  return ids;
}

/** The request id of every document under the prefix, one entry per document. */
export async function indexedIds(admin: Client, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  const pit = await admin.openPointInTime({ index: indexPattern(prefix), keep_alive: PIT_KEEP_ALIVE });
  try {
    let after: (string | number)[] | undefined;
    for (;;) {
      const response = await admin.search({
        pit: { id: pit.id, keep_alive: PIT_KEEP_ALIVE },
        size: PAGE,
        sort: ['_shard_doc'],
        _source: false,
        fields: [FIELD.eventId],
        ...(after ? { search_after: after } : {}),
      });
      for (const hit of response.hits.hits) ids.push(String(hit.fields?.[FIELD.eventId]?.[0]));
      if (response.hits.hits.length < PAGE) return ids;
      after = response.hits.hits.at(-1)!.sort as (string | number)[];
    }
  } finally {
    await admin.closePointInTime({ id: pit.id });
  }
}

export interface Reckoning {
  written: number;
  indexed: number;
  /** Documents beyond the first for a request id. */
  duplicates: number;
  /** Lines written whose request id has no document. */
  missing: number;
}

export function reckon(written: string[], indexed: string[]): Reckoning {
  const documents = new Map<string, number>();
  for (const id of indexed) documents.set(id, (documents.get(id) ?? 0) + 1);
  let duplicates = 0;
  for (const count of documents.values()) duplicates += count - 1;
  return { written: written.length, indexed: indexed.length, duplicates, missing: written.filter((id) => !documents.has(id)).length };
}
