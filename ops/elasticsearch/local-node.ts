// Starts a local single-node Elasticsearch from the cached distribution: bound to 127.0.0.1 on
// free ports, 1 GiB heap, disk thresholds off, run as an unprivileged user (it refuses root).

import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { chown, cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../free-port.ts';
import { ensureDistribution } from './distribution.ts';
import { findJavaHome } from './java.ts';
import { ProxyAccessLogError } from '../../common/errors.ts';

const SERVICE_USER = 'elasticsearch';
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
  log?: (line: string) => void;
}

export interface LocalNode {
  url: string;
  pid: number;
  /** The node's own log, for diagnostics. */
  logFile: string;
  stop(): Promise<void>;
}

interface RunAs {
  uid: number;
  gid: number;
}

/** As root, the unprivileged system user the node runs as, created on first use. */
function serviceUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = () => spawnSync('id', ['-u', SERVICE_USER], { encoding: 'utf8' });
  if (lookup().status !== 0) {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVICE_USER]);
  }
  const uid = Number(lookup().stdout.trim());
  const gid = Number(execFileSync('id', ['-g', SERVICE_USER], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** The distribution must be readable by the service user; mirror it to /tmp when its path is not. */
async function readableHome(home: string, runAs: RunAs | undefined): Promise<string> {
  if (!runAs) return home;
  const probe = spawnSync('test', ['-r', join(home, 'lib')], { uid: runAs.uid, gid: runAs.gid });
  if (probe.status === 0) return home;
  const mirror = join(tmpdir(), `proxy-access-log-${home.split('/').at(-1)}`);
  if (!existsSync(join(mirror, 'bin', 'elasticsearch'))) await cp(home, mirror, { recursive: true });
  return mirror;
}

async function chownTree(path: string, runAs: RunAs): Promise<void> {
  await chown(path, runAs.uid, runAs.gid);
  for (const entry of await readdir(path, { withFileTypes: true, recursive: true })) {
    await chown(join(entry.parentPath, entry.name), runAs.uid, runAs.gid);
  }
}

function tail(file: string, lines = 40): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

async function waitUntilReady(url: string, auth: string | undefined, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const headers: Record<string, string> = auth ? { authorization: auth } : {};
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited with ${child.exitCode ?? child.signalCode}`);
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

  const runDir = await mkdtemp(join(tmpdir(), 'proxy-access-log-es-'));
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
  if (runAs && options.dataDir) await chownTree(options.dataDir, runAs);

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
    await waitUntilReady(url, auth, child, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
  } catch (error) {
    const detail = `${(error as Error).message}\n--- console ---\n${tail(logFile)}\n--- node log ---\n${tail(join(logsDir, 'proxy-access-log-local.log'))}`;
    child.kill('SIGKILL');
    await exited;
    throw new ElasticsearchStartError(`Elasticsearch did not start: ${detail}`);
  }
  log(`Elasticsearch ready at ${url}`);
  return { url, pid: child.pid!, logFile, stop };
}
