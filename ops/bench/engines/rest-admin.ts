// The index administration the engines part needs beyond the storage seam, as plain REST requests
// that Elasticsearch and OpenSearch answer alike, against a local node without security: index
// settings, force-merge, and the bytes of the segments a force-merge leaves.

import { request } from 'undici';
import { ProxyAccessLogError } from '../../../common/errors.ts';
import type { IndexAdmin } from '../api/load-documents.ts';

export class EngineAdminError extends ProxyAccessLogError {
  readonly code = 'BENCH_ENGINE_ADMIN_FAILED';
}

/** `ignore`: statuses that are no error (400 for an index that exists). */
async function send(url: string, method: 'GET' | 'PUT' | 'POST', path: string, body?: object, ignore: number[] = []): Promise<unknown> {
  // A force-merge of millions of documents answers after minutes.
  const response = await request(`${url}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  const text = await response.body.text();
  if (response.statusCode >= 300 && !ignore.includes(response.statusCode)) throw new EngineAdminError(`${method} ${path}: ${response.statusCode} ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : undefined;
}

export function restAdmin(url: string): IndexAdmin {
  return {
    async createIndex(index, settings) {
      await send(url, 'PUT', `/${encodeURIComponent(index)}`, { settings: { index: settings } }, [400]);
    },
    async putSettings(pattern, settings) {
      await send(url, 'PUT', `/${encodeURIComponent(pattern)}/_settings`, { index: settings });
    },
    async forceMerge(pattern) {
      await send(url, 'POST', `/${encodeURIComponent(pattern)}/_forcemerge?max_num_segments=1`);
      await send(url, 'POST', `/${encodeURIComponent(pattern)}/_refresh`);
    },
  };
}

/**
 * Bytes of the primaries' current Lucene segments (`_cat/segments`, both engines): after a
 * force-merge, what the documents cost on disk. Not the store statistics, which still count the
 * files of the commits before the merge until the engine lets go of them.
 */
export async function segmentBytes(url: string, pattern: string): Promise<number> {
  const segments = (await send(url, 'GET', `/_cat/segments/${encodeURIComponent(pattern)}?format=json&bytes=b&h=prirep,size`)) as { prirep: string; size: string }[];
  return segments.filter((segment) => segment.prirep === 'p').reduce((sum, segment) => sum + Number(segment.size), 0);
}
