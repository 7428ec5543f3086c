// What a document costs on disk once its indices are force-merged: the store's bytes per document,
// and per field (Elasticsearch's `_disk_usage` analysis: inverted index, doc values, points, stored
// fields), largest first. The figures behind the template's FIELD_STORAGE choices.

import type { Client } from '@elastic/elasticsearch';

interface FieldBytes {
  total_in_bytes: number;
  inverted_index: { total_in_bytes: number };
  stored_fields_in_bytes: number;
  doc_values_in_bytes: number;
  points_in_bytes: number;
}

export interface FieldUsage {
  field: string;
  total: number;
  inverted: number;
  stored: number;
  docValues: number;
  points: number;
}

export interface DiskUsage {
  documents: number;
  /**
   * The bytes of the indices' current commits, from `_disk_usage`. Not the store statistics: right
   * after a force-merge they still count the files of the commits before it, until Elasticsearch
   * lets go of them (up to twice the figure, measured).
   */
  storeBytes: number;
  /** Lucene segments of the primaries: one per index once the force-merge is done. */
  segments: number;
  indices: number;
  /** Per field, summed over the indices, largest first. */
  fields: FieldUsage[];
}

export async function diskUsage(client: Client, index: string): Promise<DiskUsage> {
  const stats = await client.indices.stats({ index, metric: ['store', 'docs', 'segments'] });
  const documents = stats._all.primaries?.docs?.count ?? 0;
  const segments = stats._all.primaries?.segments?.count ?? 0;
  const analysis = await client.transport.request<Record<string, { store_size_in_bytes?: number; fields?: Record<string, FieldBytes> }>>({
    method: 'POST',
    path: `/${encodeURIComponent(index)}/_disk_usage`,
    querystring: { run_expensive_tasks: 'true' },
  });
  const byField = new Map<string, FieldUsage>();
  let storeBytes = 0;
  for (const [name, indexUsage] of Object.entries(analysis)) {
    if (name === '_shards') continue;
    storeBytes += indexUsage.store_size_in_bytes ?? 0;
    for (const [field, bytes] of Object.entries(indexUsage.fields ?? {})) {
      const usage = byField.get(field) ?? { field, total: 0, inverted: 0, stored: 0, docValues: 0, points: 0 };
      usage.total += bytes.total_in_bytes;
      usage.inverted += bytes.inverted_index.total_in_bytes;
      usage.stored += bytes.stored_fields_in_bytes;
      usage.docValues += bytes.doc_values_in_bytes;
      usage.points += bytes.points_in_bytes;
      byField.set(field, usage);
    }
  }
  return { documents, storeBytes, segments, indices: Object.keys(stats.indices ?? {}).length, fields: [...byField.values()].sort((a, b) => b.total - a.total) };
}

/** A Markdown table of the `top` largest fields, in bytes per document. */
export function renderDiskUsage(usage: DiskUsage, top = 12): string {
  const perDocument = (bytes: number) => (usage.documents === 0 ? '–' : (bytes / usage.documents).toFixed(1));
  return [
    `Store after a force-merge: ${usage.storeBytes.toLocaleString('en')} bytes for ${usage.documents.toLocaleString('en')} documents in ${usage.segments} segments of ${usage.indices} indices, **${perDocument(usage.storeBytes)} bytes per document** (primaries). The largest fields, in bytes per document (\`_disk_usage\`):`,
    '',
    '| field | total | inverted index | doc values | points | stored (`_source`, `_id`) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...usage.fields.slice(0, top).map((f) => `| ${f.field} | ${perDocument(f.total)} | ${perDocument(f.inverted)} | ${perDocument(f.docValues)} | ${perDocument(f.points)} | ${perDocument(f.stored)} |`),
  ].join('\n');
}
