// Starts a local single-node Elasticsearch from the cached distribution: bound to 127.0.0.1 on
// free ports, 1 GiB heap, disk thresholds off, run as an unprivileged user (it refuses root).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../free-port.ts';
import { ensureDistribution } from './distribution.ts';
import { findJavaHome } from './java.ts';
import { ProxyAccessLogError } from '../../common/errors.ts';
import { canAccess, chownTree, rootStateDir, serviceUser, type RunAs } from './run-as.ts';
import { explainStartFailure, logTail } from './start-failure.ts';

const DEFAULT_READY_TIMEOUT_MS = 180_000;

export class ElasticsearchStartError extends ProxyAccessLogError {
  readonly code = 'ES_START_FAILED';
}

export interface LocalNodeOptions {
  /** Keep data here across runs (npm start); a fresh temporary folder otherwise (tests). */
  dataDir?: string;
  /** Turn on security with one superuser in the file realm (basic auth over plain HTTP). */
  superuser?: { username: string; password: string };
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
async function readableHome(home: string, runAs: RunAs | undefined): Promise<string> {
  if (!runAs || canAccess(join(home, 'lib'), 'r', runAs)) return home;
  const mirror = join(await rootStateDir(), home.split('/').at(-1)!);
  if (!existsSync(join(mirror, 'bin', 'elasticsearch'))) {
    await rm(`${mirror}.partial`, { recursive: true, force: true });
    await cp(home, `${mirror}.partial`, { recursive: true });
    await rename(`${mirror}.partial`, mirror);
  }
  return mirror;
}

/** Where this run's config, logs and temporary files go: a folder the node's user can reach. */
async function makeRunDir(runAs: RunAs | undefined): Promise<string> {
  const parent = runAs ? await rootStateDir('run') : tmpdir();
  return mkdtemp(join(parent, 'node-'));
}

async function waitUntilReady(url: string, auth: string | undefined, child: ChildProcess, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const headers: Record<string, string> = auth ? { authorization: auth } : {};
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited with ${child.exitCode ?? child.signalCode}`);
    signal?.throwIfAborted();
    try {
      const response = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`, {
        headers,
        signal: AbortSignal.timeout(2_000),
      });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`not ready within ${timeoutMs} ms`);
}

export async function startLocalNode(options: LocalNodeOptions = {}): Promise<LocalNode> {
  const log = options.log ?? (() => {});
  const runAs = serviceUser();
  const home = await readableHome(await ensureDistribution(log), runAs);
  const javaHome = findJavaHome();

  const runDir = await makeRunDir(runAs);
  const configDir = join(runDir, 'config');
  const dataDir = options.dataDir ?? join(runDir, 'data');
  const logsDir = join(runDir, 'logs');
  const tmpDir = join(runDir, 'tmp');
  await cp(join(home, 'config'), configDir, { recursive: true });
  await Promise.all([mkdir(dataDir, { recursive: true }), mkdir(logsDir), mkdir(tmpDir)]);
  await writeFile(join(configDir, 'jvm.options.d', 'heap.options'), `-Xms${options.heap ?? '1g'}\n-Xmx${options.heap ?? '1g'}\n`);

  const [httpPort, transportPort] = [options.httpPort ?? (await freePort()), await freePort()];
  const settings: Record<string, string> = {
    'cluster.name': 'proxy-access-log-local',
    'node.name': 'local',
    'discovery.type': 'single-node',
    'network.host': '127.0.0.1',
    'http.port': String(httpPort),
    'transport.port': String(transportPort),
    'path.data': dataDir,
    'path.logs': logsDir,
    'cluster.routing.allocation.disk.threshold_enabled': 'false',
    'xpack.security.enabled': options.superuser ? 'true' : 'false',
    'action.destructive_requires_name': 'false',
  };
  if (options.superuser) {
    settings['xpack.security.http.ssl.enabled'] = 'false';
    settings['xpack.security.transport.ssl.enabled'] = 'false';
  }
  await writeFile(
    join(configDir, 'elasticsearch.yml'),
    Object.entries(settings).map(([key, value]) => `${key}: ${JSON.stringify(value)}`).join('\n') + '\n',
  );

  const env: NodeJS.ProcessEnv = { ...process.env, ES_JAVA_HOME: javaHome, ES_PATH_CONF: configDir, ES_TMPDIR: tmpDir, JAVA_HOME: javaHome };
  delete env.ES_JAVA_OPTS;
  if (options.superuser) {
    execFileSync(
      join(home, 'bin', 'elasticsearch-users'),
      ['useradd', options.superuser.username, '-p', options.superuser.password, '-r', 'superuser'],
      { env, stdio: 'pipe' },
    );
  }
  if (runAs) await chownTree(runDir, runAs);
  if (runAs && options.dataDir) {
    await chownTree(options.dataDir, runAs);
    if (!canAccess(options.dataDir, 'w', runAs)) {
      await rm(runDir, { recursive: true, force: true });
      throw new ElasticsearchStartError(
        `Elasticsearch did not start: the node runs as user "${runAs.user}", which cannot reach its data directory ` +
          `${options.dataDir} (a directory above it is closed to that user). Choose a data directory that user can reach, ` +
          `or run as a user other than root.`,
      );
    }
  }

  const logFile = join(runDir, 'console.log');
  const console = createWriteStream(logFile);
  log(`starting Elasticsearch (${home.split('/').at(-1)}, Java at ${javaHome}) on 127.0.0.1:${httpPort}`);
  const child = spawn(join(home, 'bin', 'elasticsearch'), [], {
    env,
    cwd: runDir,
    uid: runAs?.uid,
    gid: runAs?.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: a Ctrl-C meant for the stack or test runner must not stop the node
    // before the processes that write to it have flushed; its owner stops it last.
    detached: true,
  });
  child.stdout!.pipe(console);
  child.stderr!.pipe(console);

  const url = `http://127.0.0.1:${httpPort}`;
  const auth = options.superuser
    ? `Basic ${Buffer.from(`${options.superuser.username}:${options.superuser.password}`).toString('base64')}`
    : undefined;

  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(killTimer);
    }
    console.end();
    await rm(runDir, { recursive: true, force: true });
  };

  try {
    await waitUntilReady(url, auth, child, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS, options.signal);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    console.end();
    const nodeLog = join(logsDir, 'proxy-access-log-local.log');
    const logText = [logFile, nodeLog].filter((file) => existsSync(file)).map((file) => readFileSync(file, 'utf8')).join('\n');
    const cause = explainStartFailure(logText, (error as Error).message, runAs?.user ?? 'you');
    const tail = logTail(existsSync(nodeLog) ? nodeLog : logFile);
    await rm(runDir, { recursive: true, force: true });
    throw new ElasticsearchStartError(`Elasticsearch did not start: ${cause}\n--- the node's last log lines ---\n${tail}`);
  }
  log(`Elasticsearch ready at ${url}`);
  return { url, pid: child.pid!, logFile, stop };
}
