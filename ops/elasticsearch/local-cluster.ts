// Starts a local secured Elasticsearch cluster of N nodes on 127.0.0.1, from the same steps as the
// single node (local-node.ts): security on, TLS on HTTP and between the nodes from a CA made for
// the run, one superuser in the file realm, and the plugin the `.security` index needs.

import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent } from 'undici';
import { freePort } from '../free-port.ts';
import { makeClusterCertificates } from './certificates.ts';
import { ensureDistribution } from './distribution.ts';
import { DISTRIBUTIONS } from './engines.ts';
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
  type RunningNode,
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

/** One node of a local cluster, which can crash and come back on its own ports and data. */
export interface ClusterNode extends LocalNode {
  name: string;
  /** SIGKILL, as a crash or a power loss would; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts the stopped or killed node again on the same ports and data; `waitForNodes` says when it joined. */
  start(): void;
}

export interface LocalCluster {
  /** The first node's HTTPS URL; every node answers for the whole cluster. */
  url: string;
  /** The CA that signed the nodes' certificate: what clients trust (ELASTICSEARCH_CA_FILE). */
  caFile: string;
  /** A superuser made for this run, in every node's file realm. */
  superuser: Credentials;
  nodes: ClusterNode[];
  /** Resolves once `count` nodes form the cluster and every primary shard is active (yellow or green). */
  waitForNodes(count: number, timeoutMs?: number): Promise<void>;
  /** Stops every node, then removes the run's folder. */
  stop(): Promise<void>;
}

/**
 * The node's server JVM: `bin/elasticsearch` runs a launcher JVM, which starts the server as its
 * child and, when the launcher itself is killed, stops the server cleanly. A crash is the server's.
 */
async function serverPid(launcherPid: number): Promise<number | undefined> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === launcherPid) return Number(entry);
  }
  return undefined;
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
  const distribution = DISTRIBUTIONS.elasticsearch;
  const javaHome = findJavaHome(distribution);
  const home = await homeWithSecurityAnalysis(await readableHome(distribution, await ensureDistribution(distribution, log), runAs), javaHome);
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
      await prepareNode(distribution, home, javaHome, {
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
  const nodes: { prepared: PreparedNode; running: RunningNode }[] = prepared.map((node) => ({ prepared: node, running: launchNode(home, node, runAs) }));
  const url = `https://127.0.0.1:${ports[0]!.http}`;
  const dispatcher = new Agent({ connect: { ca: certificates.ca } });
  const alive = () => nodes.filter(({ running }) => running.child.exitCode === null && running.child.signalCode === null);
  const waitForNodes = (count: number, timeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS) => {
    const running = alive();
    const asked = running[0] ? `https://127.0.0.1:${running[0].prepared.plan.httpPort}` : url;
    return waitUntilReady(asked, `wait_for_nodes=${count}&wait_for_status=yellow`, basicAuth(superuser), running.map((node) => node.running.child), timeoutMs, options.signal, dispatcher);
  };
  try {
    await awaitNodes(nodes, () => waitForNodes(options.nodes), runAs, clusterDir);
  } catch (error) {
    await dispatcher.close();
    throw error;
  }
  log(`Elasticsearch cluster ready at ${url}`);
  return {
    url,
    caFile,
    superuser,
    nodes: nodes.map((node) => ({
      name: node.prepared.plan.name,
      url: `https://127.0.0.1:${node.prepared.plan.httpPort}`,
      get pid() {
        return node.running.child.pid!;
      },
      get logFile() {
        return node.running.logFile;
      },
      stop: () => stopProcess(node.running),
      async kill() {
        const server = await serverPid(node.running.child.pid!);
        if (server !== undefined) process.kill(server, 'SIGKILL');
        await stopProcess(node.running);
      },
      start() {
        node.running = launchNode(home, node.prepared, runAs);
      },
    })),
    waitForNodes,
    async stop() {
      await Promise.all(nodes.map(({ running }) => stopProcess(running)));
      await dispatcher.close();
      await rm(clusterDir, { recursive: true, force: true });
    },
  };
}
