// The ceiling: the same documents, prepared in memory beforehand, sent with plain `_bulk`
// requests of the shipper's batch size, as many at once as the shipper has in flight by default,
// into the same node. Documents carry explicit ids like the shipper's, so Elasticsearch does the
// same work for both.

import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { accessRecordSchema } from '../../../common/access-record.ts';
import { dailyIndexName } from '../../../common/proxy-event-document.ts';
import { documentId } from '../../../shipper/document-id.ts';
import { DEFAULT_BULKS_IN_FLIGHT } from '../../../shipper/config.ts';
import { toDocument } from '../../../shipper/document.ts';

export async function prepareBulkBodies(directory: string, prefix: string, batchLines: number): Promise<string[]> {
  const names = (await readdir(directory)).sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));
  const bodies: string[] = [];
  let body = '';
  let count = 0;
  for (const name of names) {
    const text = await readFile(join(directory, name), 'utf8');
    let offset = 0;
    for (const line of text.split('\n')) {
      const lineOffset = offset;
      offset += Buffer.byteLength(line) + 1;
      if (!line) continue;
      const record = accessRecordSchema.parse(JSON.parse(line));
      const id = documentId(record.proxy, name, lineOffset);
      body += `{"create":{"_index":"${dailyIndexName(prefix, new Date(record.time))}","_id":"${id}"}}\n${JSON.stringify(toDocument(record))}\n`;
      if (++count === batchLines) {
        bodies.push(body);
        body = '';
        count = 0;
      }
    }
  }
  if (body) bodies.push(body);
  return bodies;
}

/** The shipper's concurrency, so the ceiling is what the node takes from a client like it. */
export const RAW_BULKS_IN_FLIGHT = DEFAULT_BULKS_IN_FLIGHT;

export async function sendBodies(client: Client, bodies: string[]): Promise<void> {
  let next = 0;
  const sender = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const response = await client.transport.request<{ errors: boolean }>({ method: 'POST', path: '/_bulk', bulkBody: body, querystring: { filter_path: 'errors' } });
      if (response.errors) throw new Error('raw _bulk reported item errors');
    }
  };
  await Promise.all(Array.from({ length: RAW_BULKS_IN_FLIGHT }, sender));
}
