// The Elasticsearch every suite shares (started by test/run.ts), with an index prefix of its own
// so suites never see each other's documents.

import { randomBytes } from 'node:crypto';
import type { Client } from '@elastic/elasticsearch';
import {
  connectionFromEnv,
  createElasticsearchClient,
  type ElasticsearchConnection,
} from '../../common/elasticsearch-connection.ts';
import { indexPattern, indexTemplateName } from '../../common/proxy-event-document.ts';

export function testConnection(): ElasticsearchConnection {
  const connection = connectionFromEnv();
  if (!connection) throw new Error('ELASTICSEARCH_URL is not set: run the suites through `npm test` (test/run.ts)');
  return connection;
}

export interface TestElasticsearch {
  connection: ElasticsearchConnection;
  client: Client;
  /** A fresh index prefix for this suite, e.g. `t-shipper-3fa9c1`. */
  prefix: string;
  /** Deletes the suite's indices and template. */
  cleanup(): Promise<void>;
}

export function testElasticsearch(suite: string): TestElasticsearch {
  const connection = testConnection();
  const client = createElasticsearchClient(connection);
  const prefix = `t-${suite}-${randomBytes(3).toString('hex')}`.toLowerCase();
  return {
    connection,
    client,
    prefix,
    async cleanup() {
      await client.indices.delete({ index: indexPattern(prefix), ignore_unavailable: true, allow_no_indices: true });
      await client.indices.deleteIndexTemplate({ name: indexTemplateName(prefix) }, { ignore: [404] });
      await client.close();
    },
  };
}
