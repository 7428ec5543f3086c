// The ceiling: the same documents, prepared in memory beforehand, sent with plain `_bulk`
// requests of the shipper's batch size, one after another, into the same node. Documents carry
// explicit ids like the shipper's, so Elasticsearch does the same work for both.

import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { accessRecordSchema } from '../../../common/access-record.ts';
import { dailyIndexName } from '../../../common/proxy-event-document.ts';
import { documentId } from '../../../shipper/document-id.ts';
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

export async function sendBodies(client: Client, bodies: string[]): Promise<void> {
  for (const body of bodies) {
    const response = await client.transport.request<{ errors: boolean }>({ method: 'POST', path: '/_bulk', bulkBody: body, querystring: { filter_path: 'errors' } });
    if (response.errors) throw new Error('raw _bulk reported item errors');
  }
}
