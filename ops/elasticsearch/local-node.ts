// Starts a local single node of Elasticsearch or OpenSearch from the cached distribution: bound to
// 127.0.0.1 on free ports, 1 GiB heap, disk thresholds off, run as an unprivileged user (both
// refuse root). Security is off, or, on Elasticsearch, on with basic auth over plain HTTP. What
// differs between the engines is in engines.ts. The steps of starting a node are exported for
// local-cluster.ts, which starts several Elasticsearch nodes as a secured cluster.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, type WriteStream } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, type Dispatcher } from 'undici';
import type { Engine } from '../../common/search-engine.ts';
import { freePort } from '../free-port.ts';
import { ensureDistribution } from './distribution.ts';
import { DISTRIBUTIONS, type EngineDistribution } from './engines.ts';
import { findJavaHome } from './java.ts';
import { canAccess, chownTree, rootStateDir, serviceUser, type RunAs } from './run-as.ts';
import { ElasticsearchStartError, explainStartFailure, logTail } from './start-failure.ts';

export const DEFAULT_READY_TIMEOUT_MS = 180_000;
const SINGLE_NODE_CLUSTER = 'proxy-access-log-local';

export interface Credentials {
  username: string;
  password: string;
}

export interface LocalNodeOptions {
  /** Elasticsearch unless said otherwise. */
  engine?: Engine;
  /** Keep data here across runs (npm start); a fresh temporary folder otherwise (tests). */
  dataDir?: string;
  /** Listen on this HTTP port instead of a free one (a restart on the same data keeps its URL). */
  httpPort?: number;
  heap?: string;
  readyTimeoutMs?: number;
  /** Aborting it while the node starts kills the node and rejects (a stop requested during start). */
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface LocalNode {
  url: string;
  pid: number;
  /** The node's own log, for diagnostics. */
  logFile: string;
  stop(): Promise<void>;
}

/** The distribution must be readable by the node's user; as root, mirror it where it is. */
export async function readableHome(distribution: EngineDistribution, home: string, runAs: RunAs | undefined): Promise<string> {
  if (!runAs || canAccess(join(home, 'lib'), 'r', runAs)) return home;
  const mirror = join(await rootStateDir(), home.split('/').at(-1)!);
  if (!existsSync(join(mirror, 'bin', distribution.launcher))) {
    await rm(`${mirror}.partial`, { recursive: true, force: true });
    await cp(home, `${mirror}.partial`, { recursive: true });
    await rename(`${mirror}.partial`, mirror);
  }
  return mirror;
}

/** Where this run's config, logs and temporary files go: a folder the node's user can reach. */
export async function makeRunDir(runAs: RunAs | undefined, kind: 'node' | 'cluster'): Promise<string> {
  const parent = runAs ? await rootStateDir('run') : tmpdir();
  return mkdtemp(join(parent, `${kind}-`));
}

export async function waitUntilReady(
  url: string,
  query: string,
  auth: string | undefined,
  children: ChildProcess[],
  timeoutMs: number,
  signal: AbortSignal | undefined,
  dispatcher: Dispatcher | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const headers: Record<string, string> = auth ? { authorization: auth } : {};
  while (Date.now() < deadline) {
    for (const child of children) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited with ${child.exitCode ?? child.signalCode}`);
    }
    signal?.throwIfAborted();
    try {
      const response = await request(`${url}/_cluster/health?${query}&timeout=1s`, { headers, dispatcher, signal: AbortSignal.timeout(2_000) });
      await response.body.dump();
      if (response.statusCode === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`not ready within ${timeoutMs} ms`);
}

export interface NodePlan {
  clusterName: string;
  name: string;
  runDir: string;
  dataDir: string;
  heap: string;
  httpPort: number;
  settings: Record<string, string>;
  /** Files written into the node's config folder, by path relative to it. */
  configFiles?: Record<string, string>;
}

export interface PreparedNode {
  distribution: EngineDistribution;
  plan: NodePlan;
  configDir: string;
  env: NodeJS.ProcessEnv;
  /** The node's own log (the console goes to console.log in its run folder). */
  nodeLog: string;
}

export async function prepareNode(distribution: EngineDistribution, home: string, javaHome: string, plan: NodePlan): Promise<PreparedNode> {
  const configDir = join(plan.runDir, 'config');
  const logsDir = join(plan.runDir, 'logs');
  const tmpDir = join(plan.runDir, 'tmp');
  await cp(join(home, 'config'), configDir, { recursive: true });
  await Promise.all([mkdir(plan.dataDir, { recursive: true }), mkdir(logsDir), mkdir(tmpDir)]);
  const jvmOptions = join(configDir, 'jvm.options');
  await writeFile(jvmOptions, distribution.jvmOptions(await readFile(jvmOptions, 'utf8'), logsDir));
  await writeFile(join(configDir, 'jvm.options.d', 'heap.options'), `-Xms${plan.heap}\n-Xmx${plan.heap}\n`);
  const settings: Record<string, string> = {
    'cluster.name': plan.clusterName,
    'node.name': plan.name,
    'network.host': '127.0.0.1',
    'http.port': String(plan.httpPort),
    'path.data': plan.dataDir,
    'path.logs': logsDir,
    'cluster.routing.allocation.disk.threshold_enabled': 'false',
    'action.destructive_requires_name': 'false',
    ...plan.settings,
  };
  await writeFile(
    join(configDir, distribution.settingsFile),
    Object.entries(settings).map(([key, value]) => `${key}: ${JSON.stringify(value)}`).join('\n') + '\n',
  );
  for (const [path, content] of Object.entries(plan.configFiles ?? {})) {
    await mkdir(join(configDir, path, '..'), { recursive: true });
    await writeFile(join(configDir, path), content, { mode: 0o600 });
  }
  const { variables } = distribution;
  const env: NodeJS.ProcessEnv = { ...process.env, [variables.javaHome]: javaHome, [variables.pathConf]: configDir, [variables.tmpDir]: tmpDir, JAVA_HOME: javaHome };
  for (const name of distribution.ignoredVariables) delete env[name];
  return { distribution, plan, configDir, env, nodeLog: join(logsDir, `${plan.clusterName}.log`) };
}

export function addSuperuser(home: string, node: PreparedNode, superuser: Credentials): void {
  execFileSync(join(home, 'bin', 'elasticsearch-users'), ['useradd', superuser.username, '-p', superuser.password, '-r', 'superuser'], {
    env: node.env,
    stdio: 'pipe',
  });
}

export interface RunningNode {
  child: ChildProcess;
  console: WriteStream;
  logFile: string;
  exited: Promise<void>;
}

export function launchNode(home: string, node: PreparedNode, runAs: RunAs | undefined): RunningNode {
  const logFile = join(node.plan.runDir, 'console.log');
  // Appended: a node of a cluster started again keeps its earlier output.
  const console = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(join(home, 'bin', node.distribution.launcher), [], {
    env: node.env,
    cwd: node.plan.runDir,
    uid: runAs?.uid,
    gid: runAs?.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: a Ctrl-C meant for the stack or test runner must not stop the node
    // before the processes that write to it have flushed; its owner stops it last.
    detached: true,
  });
  child.stdout!.pipe(console);
  child.stderr!.pipe(console);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { child, console, logFile, exited };
}

export async function stopProcess(running: RunningNode): Promise<void> {
  const { child } = running;
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const killTimer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await running.exited;
    clearTimeout(killTimer);
  }
  running.console.end();
}

/**
 * Waits until the nodes form a ready cluster; if they do not, kills them all and throws the cause
 * read from their logs, with the last lines of the log of the node that failed (or the first).
 */
export async function awaitNodes(
  nodes: { prepared: PreparedNode; running: RunningNode }[],
  ready: () => Promise<void>,
  runAs: RunAs | undefined,
  removeOnFailure: string,
): Promise<void> {
  try {
    await ready();
  } catch (error) {
    for (const { running } of nodes) running.child.kill('SIGKILL');
    await Promise.all(nodes.map(({ running }) => running.exited));
    for (const { running } of nodes) running.console.end();
    const logs = nodes.flatMap(({ prepared, running }) => [running.logFile, prepared.nodeLog]).filter((file) => existsSync(file));
    const cause = explainStartFailure(logs.map((file) => readFileSync(file, 'utf8')).join('\n'), (error as Error).message, runAs?.user ?? 'you');
    const failed = nodes.find(({ running }) => running.child.exitCode !== 0 && running.child.signalCode !== 'SIGKILL') ?? nodes[0]!;
    const tail = logTail(existsSync(failed.prepared.nodeLog) ? failed.prepared.nodeLog : failed.running.logFile);
    await rm(removeOnFailure, { recursive: true, force: true });
    const whose = nodes.length === 1 ? 'the node' : failed.prepared.plan.name;
    throw new ElasticsearchStartError(`${failed.prepared.distribution.name} did not start: ${cause}\n--- ${whose}'s last log lines ---\n${tail}`);
  }
}

export function basicAuth(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

export async function startLocalNode(options: LocalNodeOptions = {}): Promise<LocalNode> {
  const log = options.log ?? (() => {});
  const distribution = DISTRIBUTIONS[options.engine ?? 'elasticsearch'];
  const runAs = serviceUser();
  const home = await readableHome(distribution, await ensureDistribution(distribution, log), runAs);
  const javaHome = findJavaHome(distribution);

  const runDir = await makeRunDir(runAs, 'node');
  const [httpPort, transportPort] = [options.httpPort ?? (await freePort()), await freePort()];
  const settings: Record<string, string> = {
    'discovery.type': 'single-node',
    'transport.port': String(transportPort),
    ...distribution.securityOff,
  };
  const prepared = await prepareNode(distribution, home, javaHome, {
    clusterName: SINGLE_NODE_CLUSTER,
    name: 'local',
    runDir,
    dataDir: options.dataDir ?? join(runDir, 'data'),
    heap: options.heap ?? '1g',
    httpPort,
    settings,
  });
  if (runAs) await chownTree(runDir, runAs);
  if (runAs && options.dataDir) {
    await chownTree(options.dataDir, runAs);
    if (!canAccess(options.dataDir, 'w', runAs)) {
      await rm(runDir, { recursive: true, force: true });
      throw new ElasticsearchStartError(
        `${distribution.name} did not start: the node runs as user "${runAs.user}", which cannot reach its data directory ` +
          `${options.dataDir} (a directory above it is closed to that user). Choose a data directory that user can reach, ` +
          `or run as a user other than root.`,
      );
    }
  }

  log(`starting ${distribution.name} (${home.split('/').at(-1)}, Java at ${javaHome}) on 127.0.0.1:${httpPort}`);
  const running = launchNode(home, prepared, runAs);
  const url = `http://127.0.0.1:${httpPort}`;
  const timeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  await awaitNodes(
    [{ prepared, running }],
    () => waitUntilReady(url, 'wait_for_status=yellow', undefined, [running.child], timeoutMs, options.signal, undefined),
    runAs,
    runDir,
  );
  log(`${distribution.name} ready at ${url}`);
  return {
    url,
    pid: running.child.pid!,
    logFile: running.logFile,
    async stop() {
      await stopProcess(running);
      await rm(runDir, { recursive: true, force: true });
    },
  };
}
