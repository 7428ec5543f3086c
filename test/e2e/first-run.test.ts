// The README's `npm start`, run as a new user runs it: from a checkout inside a directory only its
// owner may enter (a home directory), as root and as an ordinary user, with the embedded
// Elasticsearch the stack starts itself. It must come up, carry a request from the proxy to the
// API, and stop on a SIGTERM sent to the npm process, leaving no process and no port behind.

import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { get as httpGet } from 'node:http';
import { chmod, cp, link, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DISTRIBUTIONS } from '../../ops/elasticsearch/engines.ts';
import { portInUse } from '../../ops/free-port.ts';
import { PORTS } from '../../ops/stack/demo.ts';
import { waitFor } from '../helpers/wait.ts';

const REPO = join(import.meta.dirname, '..', '..');
const TEST_USER = 'pal-first-run';
const isRoot = process.getuid?.() === 0;

interface Owner {
  uid: number;
  gid: number;
}

/** Copies the checkout's files as git sees them (tracked and new), owned by `owner`. */
async function placeCheckout(dest: string, owner: Owner | undefined): Promise<void> {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: REPO, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    await mkdir(dirname(join(dest, file)), { recursive: true });
    await cp(join(REPO, file), join(dest, file), { preserveTimestamps: true, verbatimSymlinks: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error; // listed by git but deleted in the working tree
    });
  }
  if (owner) execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, dest]);
}

/**
 * What `npm ci` and the first fetch would have put there, without installing again: node_modules
 * hard-linked (root keeps owning the links; their files are world-readable, which is all an
 * ordinary user needs) and the unpacked Elasticsearch copied, since some of its files are
 * readable by their owner only.
 */
async function addInstalled(dest: string, owner: Owner | undefined): Promise<void> {
  const linkTree = async (from: string, to: string): Promise<void> => {
    await mkdir(to, { recursive: true });
    for (const entry of await readdir(from, { withFileTypes: true })) {
      const [source, target] = [join(from, entry.name), join(to, entry.name)];
      if (entry.isDirectory()) await linkTree(source, target);
      else if (entry.isSymbolicLink()) await symlink(await readlink(source), target);
      else await link(source, target);
    }
  };
  await linkTree(join(REPO, 'node_modules'), join(dest, 'node_modules'));
  const distribution = DISTRIBUTIONS.elasticsearch.folder;
  const cacheDir = process.env.ELASTICSEARCH_CACHE_DIR ?? join(REPO, '.cache', 'elasticsearch');
  await cp(join(cacheDir, distribution), join(dest, '.cache', 'elasticsearch', distribution), { recursive: true });
  if (owner) execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, join(dest, '.cache')]);
}

function ensureTestUser(home: string): Owner {
  const id = (flag: string) => Number(execFileSync('id', [flag, TEST_USER], { encoding: 'utf8' }).trim());
  try {
    id('-u');
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', TEST_USER]);
  }
  const owner = { uid: id('-u'), gid: id('-g') };
  execFileSync('chown', [`${owner.uid}:${owner.gid}`, home]);
  return owner;
}

/** Processes running in `dir` or naming it on their command line, as `pid: command`. */
async function processesOf(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    if (cmdline.includes(dir) || cwd.startsWith(dir)) found.push(`${pid}: ${cmdline.replaceAll('\0', ' ').slice(0, 200)}`);
  }
  return found;
}

/** A GET through the proxy for `host` (fetch would not send a Host header of our choosing). */
function getThroughProxy(host: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    httpGet({ host: '127.0.0.1', port: PORTS.proxy, path, headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode!);
    }).on('error', reject);
  });
}

describe('npm start from a home directory', { concurrency: false }, () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const cases: { name: string; asUser: boolean }[] = [
    { name: isRoot ? 'as root' : 'as the invoking user', asUser: false },
    { name: 'as an ordinary user', asUser: true },
  ];
  for (const { name, asUser } of cases) {
    it(`comes up, serves a request end to end and stops on SIGTERM to npm, ${name}`, { skip: asUser && !isRoot && 'needs root to create the user' }, async () => {
      for (const [part, port] of Object.entries(PORTS)) assert.equal(await portInUse(port), false, `port ${port} (${part}) is free`);
      // mkdtemp makes the folder 0700: only its owner may enter, like a home directory.
      const home = await mkdtemp(join(tmpdir(), 'pal-home-'));
      await chmod(home, 0o700);
      const owner = asUser ? ensureTestUser(home) : undefined;
      const checkout = join(home, 'proxy-access-log');
      await placeCheckout(checkout, owner);
      await addInstalled(checkout, owner);

      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: asUser ? home : process.env.HOME,
        LANG: 'C.UTF-8',
        npm_config_update_notifier: 'false',
      };
      const npm: ChildProcess = spawn('npm', ['start'], { cwd: checkout, env, uid: owner?.uid, gid: owner?.gid, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      npm.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      npm.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = once(npm, 'exit');
      let dataDir: string | undefined;
      cleanups.push(async () => {
        if (npm.exitCode === null) {
          // The stack stops what it started, its Elasticsearch included; then nothing may remain.
          npm.kill('SIGTERM');
          await Promise.race([exited, new Promise((r) => setTimeout(r, 60_000))]);
        }
        for (const line of await processesOf(checkout)) process.kill(Number(line.split(':')[0]), 'SIGKILL');
        if (dataDir?.startsWith('/var/lib/proxy-access-log/')) await rm(dirname(dataDir), { recursive: true, force: true });
        await rm(home, { recursive: true, force: true });
      });

      await waitFor('"The stack is up"', () => output.includes('The stack is up') || npm.exitCode !== null, { timeoutMs: 300_000, intervalMs: 500 }).catch(
        (error: Error) => assert.fail(`${error.message}\n${output}`),
      );
      assert.match(output, /The stack is up/, output);
      dataDir = /data in (\S+)/.exec(output)?.[1];
      assert.ok(dataDir, `the stack says where Elasticsearch keeps its data:\n${output}`);
      if (isRoot && !asUser) assert.match(dataDir, /^\/var\/lib\/proxy-access-log\//, 'as root, the node keeps its data where its user can reach it');
      else assert.ok(dataDir.startsWith(checkout), 'an ordinary user keeps the data in the checkout');
      const elasticsearchPort = Number(/Elasticsearch\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
      assert.ok(elasticsearchPort > 0, output);
      const firstScreen = output.slice(0, output.indexOf('The stack is up'));
      assert.doesNotMatch(firstScreen, /^\S+\s+\| \{"level"/m, 'no JSON diagnostics before the banner');
      assert.doesNotMatch(output, /MUST change/, 'no development-store warning from the demo issuer');

      const path = `/first-run-${asUser ? 'user' : 'owner'}`;
      assert.equal(await getThroughProxy('public.localhost', path), 200);
      const token = (await readFile(join(checkout, '.cache', 'stack', 'api-token'), 'utf8')).trim();
      let listed: { data?: { path?: string }[] } = {};
      await waitFor('the request listed by the API', async () => {
        const response = await fetch(`http://127.0.0.1:${PORTS.api}/api/events/proxy?path=${encodeURIComponent(path)}`, { headers: { authorization: `Bearer ${token}` } });
        listed = response.ok ? ((await response.json()) as typeof listed) : {};
        return (listed.data ?? []).some((event) => event.path === path);
      }, { timeoutMs: 60_000, intervalMs: 500 }).catch((error: Error) => assert.fail(`${error.message}\n${JSON.stringify(listed)}`));

      npm.kill('SIGTERM');
      const timer = setTimeout(() => npm.kill('SIGKILL'), 90_000);
      const [code] = await exited;
      clearTimeout(timer);
      assert.equal(code, 0, output.slice(-3000));
      const lastLine = output.trimEnd().split('\n').at(-1)!;
      assert.match(lastLine, /stopped\. The data stays in /, `the last line says the stack stopped and where its data is:\n${output.slice(-2000)}`);
      for (const port of [...Object.values(PORTS), elasticsearchPort]) assert.equal(await portInUse(port), false, `port ${port} released`);
      assert.deepEqual(await processesOf(checkout), [], 'no process of the stack is left');
    });
  }
});
