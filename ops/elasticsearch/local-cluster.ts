// Starts a local secured Elasticsearch cluster of N nodes on 127.0.0.1, from the same steps as the
// single node (local-node.ts): security on, TLS on HTTP and between the nodes from a CA made for
// the run, one superuser in the file realm, and the plugin the `.security` index needs.

import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent } from 'undici';
import { freePort } from '../free-port.ts';
import { makeClusterCertificates } from './certificates.ts';
import { ensureDistribution } from './distribution.ts';
import { findJavaHome } from './java.ts';
import {
  addSuperuser,
  awaitNodes,
  basicAuth,
  DEFAULT_READY_TIMEOUT_MS,
  launchNode,
  makeRunDir,
  prepareNode,
  readableHome,
  stopProcess,
  waitUntilReady,
  type Credentials,
  type LocalNode,
  type PreparedNode,
} from './local-node.ts';
import { chownTree, serviceUser } from './run-as.ts';
import { homeWithSecurityAnalysis } from './security-analysis.ts';
import { ElasticsearchStartError } from './start-failure.ts';

const MULTI_NODE_CLUSTER = 'proxy-access-log-cluster';
/**
 * Per node of a local cluster: three nodes share 2 cores and a machine other work runs on, and
 * hold only test- or bench-sized daily indices. 512 MiB of heap holds those with room, and three
 * such JVMs (heap plus about as much again off heap) stay near 3 GiB of a 24 GiB machine.
 */
const CLUSTER_HEAP = '512m';
/** The file realm's users, copied from the first node's config so the superuser is made once. */
const FILE_REALM_FILES = ['users', 'users_roles'];
/** Where a secured cluster's TLS files sit inside each node's config folder (the node reads only there). */
const TLS_FILES = { ca: 'tls/ca.crt', certificate: 'tls/node.crt', key: 'tls/node.key' };

export interface LocalClusterOptions {
  nodes: number;
  /** Keep each node's data in `node-<i>` below here across runs; a fresh temporary folder otherwise. */
  dataDir?: string;
  heap?: string;
  readyTimeoutMs?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface LocalCluster {
  /** The first node's HTTPS URL; every node answers for the whole cluster. */
  url: string;
  /** The CA that signed the nodes' certificate: what clients trust (ELASTICSEARCH_CA_FILE). */
  caFile: string;
  /** A superuser made for this run, in every node's file realm. */
  superuser: Credentials;
  nodes: LocalNode[];
  /** Stops every node, then removes the run's folder. */
  stop(): Promise<void>;
}

/**
 * A cluster of `nodes` master-eligible data nodes with security on: TLS on HTTP (clients trust the
 * CA in `caFile`) and on the transport between nodes (Elasticsearch requires it once security is on
 * and a cluster has more than one node), and one superuser in the file realm.
 */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  if (!Number.isInteger(options.nodes) || options.nodes < 1) throw new ElasticsearchStartError(`a cluster needs a whole number of nodes, at least 1; got ${options.nodes}`);
  const log = options.log ?? (() => {});
  const runAs = serviceUser();
  const javaHome = findJavaHome();
  const home = await homeWithSecurityAnalysis(await readableHome(await ensureDistribution(log), runAs), javaHome);
  const certificates = await makeClusterCertificates();
  const superuser = { username: 'admin', password: randomBytes(18).toString('base64url') };

  const clusterDir = await makeRunDir(runAs, 'cluster');
  const caFile = join(clusterDir, 'ca.crt');
  await writeFile(caFile, certificates.ca);
  const names = Array.from({ length: options.nodes }, (_, i) => `node-${i + 1}`);
  const ports: { http: number; transport: number }[] = [];
  while (ports.length < names.length) ports.push({ http: await freePort(), transport: await freePort() });
  const tls: Record<string, string> = {};
  for (const layer of ['http', 'transport']) {
    tls[`xpack.security.${layer}.ssl.enabled`] = 'true';
    tls[`xpack.security.${layer}.ssl.certificate`] = TLS_FILES.certificate;
    tls[`xpack.security.${layer}.ssl.key`] = TLS_FILES.key;
    tls[`xpack.security.${layer}.ssl.certificate_authorities`] = TLS_FILES.ca;
  }
  const prepared: PreparedNode[] = [];
  for (const [i, name] of names.entries()) {
    const runDir = join(clusterDir, name);
    await mkdir(runDir);
    prepared.push(
      await prepareNode(home, javaHome, {
        clusterName: MULTI_NODE_CLUSTER,
        name,
        runDir,
        dataDir: options.dataDir ? join(options.dataDir, name) : join(runDir, 'data'),
        heap: options.heap ?? CLUSTER_HEAP,
        httpPort: ports[i]!.http,
        settings: {
          'transport.port': String(ports[i]!.transport),
          'discovery.seed_hosts': ports.map((port) => `127.0.0.1:${port.transport}`).join(','),
          'cluster.initial_master_nodes': names.join(','),
          'xpack.security.enabled': 'true',
          ...tls,
        },
        configFiles: { [TLS_FILES.ca]: certificates.ca, [TLS_FILES.certificate]: certificates.certificate, [TLS_FILES.key]: certificates.key },
      }),
    );
  }
  addSuperuser(home, prepared[0]!, superuser);
  for (const node of prepared.slice(1)) {
    for (const file of FILE_REALM_FILES) await copyFile(join(prepared[0]!.configDir, file), join(node.configDir, file));
  }
  if (runAs) {
    await chownTree(clusterDir, runAs);
    if (options.dataDir) await chownTree(options.dataDir, runAs);
  }

  log(`starting a ${options.nodes}-node Elasticsearch cluster (${home.split('/').at(-1)}, Java at ${javaHome}) on 127.0.0.1:${ports.map((port) => port.http).join(',')}`);
  const nodes = prepared.map((node) => ({ prepared: node, running: launchNode(home, node, runAs) }));
  const url = `https://127.0.0.1:${ports[0]!.http}`;
  const dispatcher = new Agent({ connect: { ca: certificates.ca } });
  try {
    await awaitNodes(
      nodes,
      () =>
        waitUntilReady(
          url,
          `wait_for_nodes=${options.nodes}&wait_for_status=yellow`,
          basicAuth(superuser),
          nodes.map(({ running }) => running.child),
          options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
          options.signal,
          dispatcher,
        ),
      runAs,
      clusterDir,
    );
  } finally {
    await dispatcher.close();
  }
  log(`Elasticsearch cluster ready at ${url}`);
  return {
    url,
    caFile,
    superuser,
    nodes: nodes.map(({ prepared: node, running }) => ({
      url: `https://127.0.0.1:${node.plan.httpPort}`,
      pid: running.child.pid!,
      logFile: running.logFile,
      stop: () => stopProcess(running),
    })),
    async stop() {
      await Promise.all(nodes.map(({ running }) => stopProcess(running)));
      await rm(clusterDir, { recursive: true, force: true });
    },
  };
}
