// A secured 3-node cluster (TLS, security on) for the suites that need one, and connections to it
// as its superuser or with an API key. Starting three nodes on a busy 2-core machine takes minutes,
// so the wait is long, and the suites that need a cluster share one start in one file.

import type { Client } from '@elastic/elasticsearch';
import { createElasticsearchClient, type ElasticsearchConnection } from '../../common/elasticsearch-connection.ts';
import { startLocalCluster, type LocalCluster } from '../../ops/elasticsearch/local-cluster.ts';

const CLUSTER_READY_TIMEOUT_MS = 600_000;
const REQUEST_TIMEOUT_MS = 30_000;

export interface TestCluster {
  cluster: LocalCluster;
  /** The superuser's connection, over TLS with the cluster's CA. */
  admin: ElasticsearchConnection;
  adminClient: Client;
  /** The same URL and CA, authenticated by an API key instead. */
  withApiKey(apiKey: string): ElasticsearchConnection;
  stop(): Promise<void>;
}

export async function startTestCluster(nodes = 3): Promise<TestCluster> {
  const cluster = await startLocalCluster({ nodes, readyTimeoutMs: CLUSTER_READY_TIMEOUT_MS, log: (line) => console.error(`[cluster] ${line}`) });
  const base = { url: cluster.url, ca_file: cluster.caFile, request_timeout_ms: REQUEST_TIMEOUT_MS };
  const admin: ElasticsearchConnection = { ...base, ...cluster.superuser };
  const adminClient = createElasticsearchClient(admin);
  return {
    cluster,
    admin,
    adminClient,
    withApiKey: (apiKey) => ({ ...base, api_key: apiKey }),
    async stop() {
      await adminClient.close();
      await cluster.stop();
    },
  };
}
