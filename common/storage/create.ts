// The storage a connection names: Elasticsearch's or OpenSearch's implementation, by `engine`.

import { createElasticsearchClient, type ElasticsearchConnection } from '../elasticsearch-connection.ts';
import { ElasticsearchStorage } from './elasticsearch.ts';
import { engineOf } from './engine.ts';
import { createOpenSearchClient, OpenSearchStorage } from './opensearch.ts';
import type { Storage } from './storage.ts';

export function createStorage(connection: ElasticsearchConnection): Storage {
  return engineOf(connection) === 'opensearch' ? new OpenSearchStorage(createOpenSearchClient(connection)) : new ElasticsearchStorage(createElasticsearchClient(connection));
}
