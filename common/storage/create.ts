// The storage a connection names: Elasticsearch's or OpenSearch's implementation, by `engine`.
// OpenSearch's client is required only for an OpenSearch connection: loaded, it holds some 27 MiB
// of memory that a process on Elasticsearch (the shipper above all) would carry for nothing.

import { createRequire } from 'node:module';
import { createElasticsearchClient, type ElasticsearchConnection } from '../elasticsearch-connection.ts';
import { ElasticsearchStorage } from './elasticsearch.ts';
import { engineOf } from './engine.ts';
import type { Storage } from './storage.ts';

const require = createRequire(import.meta.url);

export function createStorage(connection: ElasticsearchConnection): Storage {
  if (engineOf(connection) !== 'opensearch') return new ElasticsearchStorage(createElasticsearchClient(connection));
  const { createOpenSearchClient, OpenSearchStorage } = require('./opensearch.ts') as typeof import('./opensearch.ts');
  return new OpenSearchStorage(createOpenSearchClient(connection));
}
