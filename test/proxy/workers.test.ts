// The proxy with worker processes (proxy/workers.ts), as real processes on 127.0.0.1: both workers
// serve the one port, each into its own log folder and chain; the failed-attempt limits, the
// session key and revocations are shared; a worker killed mid-load is replaced without touching
// the other's connections; SIGTERM drains every worker; SIGHUP reaches every worker; the status
// listener answers for all. New connections go to the workers in turn (cluster's round robin), so
// a request on a fresh connection alternates between them; which worker answered is read from
// its access-log line (`proxy` is `<proxy_id>/<worker>`). One proxy is started for all the steps,
// in order (a start of three processes is the slow part here); the last one stops it.

import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, request } from 'undici';
import { keyIdOf } from '../../common/trail.ts';
import { verifyFiles } from '../../ops/trail/files.ts';
import { emptyVerification } from '../../ops/trail/verifier.ts';
import type { AccessRecord } from '../../common/access-record.ts';
import { waitFor, within } from '../helpers/wait.ts';
import { cheapSecretHash, echo, readRecords, removeDir, startUpstream, tempDir, until, type Upstream } from './helpers.ts';
import { runProxyMain, spawnProxy, type ProxyProcess } from './process.ts';

const PROXY_ID = 'pair';
const WORKERS = [`${PROXY_ID}/1`, `${PROXY_ID}/2`];

/** Every record of every worker folder. */
async function workerRecords(logDir: string): Promise<AccessRecord[]> {
  const folders = (await readdir(logDir)).filter((name) => name.startsWith('worker-'));
  return (await Promise.all(folders.map((folder) => readRecords(join(logDir, folder))))).flat();
}

/** The lines of requests `ids`, once all are written. */
async function recordsOf(logDir: string, ids: string[]): Promise<Map<string, AccessRecord[]>> {
  return await waitFor(`the access-log lines of ${ids.length} requests`, async () => {
    const byId = new Map<string, AccessRecord[]>();
    for (const record of await workerRecords(logDir)) if (ids.includes(record.id)) byId.set(record.id, [...(byId.get(record.id) ?? []), record]);
    return byId.size === ids.length && byId;
  });
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request on a connection of its own: the next worker in turn answers it. */
async function fresh(url: string, path: string, headers: Record<string, string>, form?: Record<string, string>): Promise<Answer> {
  const client = new Client(url);
  try {
    const response = await client.request({
      path,
      method: form ? 'POST' : 'GET',
      headers: form ? { ...headers, 'content-type': 'application/x-www-form-urlencoded' } : headers,
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
  } finally {
    await client.close();
  }
}

/** Pids of worker `number` in the order the primary started them. */
function workerPids(proxy: ProxyProcess, number: number): number[] {
  return [...proxy.stderr().matchAll(/"worker":(\d+),"pid":(\d+),"msg":"worker started"/g)].filter((match) => Number(match[1]) === number).map((match) => Number(match[2]));
}

describe('a proxy with two workers, one start for every step', () => {
  let upstream: Upstream;
  /** Requests the upstream holds until the test lets them go. */
  const held: Array<() => void> = [];
  let holding = false;
  let dir: string;
  let proxy: ProxyProcess;
  let publicKey: KeyObject;
  const logDir = () => join(dir, 'logs');
  const services = () => [
    { id: 'app', hosts: ['app.test'], upstream: upstream.url, auth: { method: 'none' } },
    { id: 'vault', hosts: ['vault.test'], upstream: upstream.url, auth: { method: 'basic', users: [{ username: 'ann', hash: cheapSecretHash('right') }] } },
    // No sessions.secret_file: the primary's random key signs for both workers.
    { id: 'door', hosts: ['door.test'], upstream: upstream.url, auth: { method: 'pin', hash: cheapSecretHash('2468'), user_id: 'team' } },
  ];
  const config = (extra: Array<Record<string, unknown>> = []) => ({
    proxy_id: PROXY_ID,
    workers: 2,
    listen: { host: '127.0.0.1', port: 0 },
    status: { host: '127.0.0.1', port: 0 },
    access_log: { dir: 'logs', signing_key_file: 'trail.key' },
    // Believed X-Request-Id lets each request find its own line.
    trusted_proxies: ['127.0.0.1'],
    login_rate_limit: { max_failed_attempts: 3 },
    services: [...services(), ...extra],
  });
  /** Which worker answered each request, from its line. */
  const workersOf = async (ids: string[]) => new Set([...(await recordsOf(logDir(), ids)).values()].map((records) => records[0]!.proxy));

  before(async () => {
    upstream = await startUpstream((seen, res: ServerResponse) => {
      if (holding) held.push(() => echo(seen, res));
      else echo(seen, res);
    });
    dir = await tempDir('workers');
    const keys = generateKeyPairSync('ed25519');
    publicKey = keys.publicKey;
    await writeFile(join(dir, 'trail.key'), keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    proxy = await spawnProxy(dir, config());
  });
  after(async () => {
    holding = false;
    for (const release of held.splice(0)) release();
    proxy.child.kill('SIGKILL');
    await upstream.close();
    await removeDir(dir);
  });

  test('both serve the one port, each in its own folder; /metrics and /health answer for both', async () => {
    const ids = Array.from({ length: 6 }, (_, index) => `serve-${index}`);
    for (const id of ids) assert.equal((await fresh(proxy.url, '/', { host: 'app.test', 'x-request-id': id })).status, 200);
    const byId = await recordsOf(logDir(), ids);
    assert.deepEqual(new Set([...byId.values()].map((records) => records[0]!.proxy)), new Set(WORKERS));
    for (const records of byId.values()) assert.equal(records.length, 1);
    for (const [number, proxyId] of WORKERS.entries()) {
      const own = await readRecords(join(logDir(), `worker-${number + 1}`));
      assert.ok(own.length > 0 && own.every((record) => record.proxy === proxyId), `worker-${number + 1}/ holds only ${proxyId}'s lines`);
    }
    const statusPort = Number(/"status_port":(\d+)/.exec(proxy.stderr())![1]);
    const metrics = await (await request(`http://127.0.0.1:${statusPort}/metrics`)).body.text();
    const answered = [...metrics.matchAll(/^proxy_requests_total\{[^}]*service="app"[^}]*\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
    assert.equal(answered, ids.length, 'the requests of both workers, summed');
    const health = await request(`http://127.0.0.1:${statusPort}/health`);
    assert.equal(health.statusCode, 200);
    assert.equal(((await health.body.json()) as { workers: unknown[] }).workers.length, 2);
  });

  test('failed attempts are counted once across workers: N failures lock out at N, not 2N', async () => {
    const wrong = `Basic ${Buffer.from('ann:wrong').toString('base64')}`;
    const ids = Array.from({ length: 6 }, (_, index) => `wrong-${index}`);
    const statuses: number[] = [];
    for (const id of ids) statuses.push((await fresh(proxy.url, '/', { host: 'vault.test', 'x-request-id': id, authorization: wrong })).status);
    assert.deepEqual(statuses, [401, 401, 401, 429, 429, 429]);
    assert.deepEqual(await workersOf(ids.slice(0, 3)), new Set(WORKERS), 'the three failures were checked by both workers');
    assert.deepEqual(await workersOf(ids.slice(3)), new Set(WORKERS), 'both workers refuse once the limit is reached');
  });

  test('a session from one worker is good at the other, and its logout is refused by every worker', async () => {
    const headers = (id: string, cookie?: string) => ({ host: 'door.test', 'x-request-id': id, ...(cookie ? { cookie } : {}) });
    const login = await fresh(proxy.url, '/.proxy/login', headers('login'), { pin: '2468' });
    assert.equal(login.status, 303);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const before = ['in-0', 'in-1', 'in-2'];
    for (const id of before) assert.equal((await fresh(proxy.url, '/', headers(id, cookie))).status, 200);
    assert.deepEqual(await workersOf(before), new Set(WORKERS));

    assert.equal((await fresh(proxy.url, '/.proxy/logout', headers('logout', cookie))).status, 303);
    const replays = ['out-0', 'out-1', 'out-2', 'out-3'];
    for (const id of replays) assert.notEqual((await fresh(proxy.url, '/', headers(id, cookie))).status, 200);
    const refused = await recordsOf(logDir(), replays);
    assert.deepEqual(new Set([...refused.values()].map((records) => records[0]!.proxy)), new Set(WORKERS));
    for (const records of refused.values()) assert.equal(records[0]!.reason, 'session revoked');
  });

  test('SIGHUP reloads every worker', async () => {
    const added = { id: 'more', hosts: ['more.test'], upstream: upstream.url, auth: { method: 'none' } };
    await writeFile(join(dir, 'proxy.config.json'), JSON.stringify(config([added])));
    proxy.child.kill('SIGHUP');
    await until(() => (proxy.stderr().match(/"msg":"configuration reloaded"/g) ?? []).length === 2, 'both workers to reload', 10_000);
    const ids = ['more-0', 'more-1', 'more-2'];
    for (const id of ids) assert.equal((await fresh(proxy.url, '/', { host: 'more.test', 'x-request-id': id })).status, 200);
    assert.deepEqual(await workersOf(ids), new Set(WORKERS));
  });

  test('a worker killed mid-load is restarted; the other worker keeps its keep-alive connections', async () => {
    const clients = Array.from({ length: 6 }, () => new Client(proxy.url, { pipelining: 1 }));
    const connects = clients.map(() => 0);
    clients.forEach((client, index) => client.on('connect', () => connects[index]!++));
    try {
      const send = async (index: number, id: string) => {
        const response = await clients[index]!.request({ path: '/', method: 'GET', headers: { host: 'app.test', 'x-request-id': id } });
        await response.body.text();
        return response.statusCode;
      };
      const first = clients.map((_, index) => `conn-${index}`);
      for (const [index, id] of first.entries()) assert.equal(await send(index, id), 200);
      const byId = await recordsOf(logDir(), first);
      const onWorker = (proxyId: string) => clients.map((_, index) => index).filter((index) => byId.get(first[index]!)![0]!.proxy === proxyId);
      const survivors = onWorker(WORKERS[1]!);
      assert.ok(onWorker(WORKERS[0]!).length > 0 && survivors.length > 0, 'the connections are spread over both workers');
      const [victimPid] = workerPids(proxy, 1);

      let loading = true;
      let answered = 0;
      const failures: string[] = [];
      const load = survivors.map(async (index) => {
        for (let round = 0; loading; round++) {
          const status = await send(index, `load-${index}-${round}`).catch((error: Error) => error.message);
          if (status === 200) answered++;
          else failures.push(`${index}: ${status}`);
        }
      });
      await until(() => answered >= 20, 'load on the surviving worker', 10_000);
      process.kill(victimPid!, 'SIGKILL');
      await until(() => workerPids(proxy, 1).length === 2, 'the primary to start another worker 1', 20_000);
      const answeredAtRestart = answered;
      await until(() => answered >= answeredAtRestart + 20, 'more load on the surviving worker', 10_000);
      loading = false;
      await within('the load to finish', Promise.all(load));
      assert.deepEqual(failures, []);
      for (const index of survivors) assert.equal(connects[index], 1, `connection ${index} was never dropped`);

      const after = ['after-0', 'after-1', 'after-2'];
      for (const id of after) assert.equal((await fresh(proxy.url, '/', { host: 'app.test', 'x-request-id': id })).status, 200);
      assert.ok((await workersOf(after)).has(WORKERS[0]!), 'the restarted worker 1 answers');
    } finally {
      await Promise.all(clients.map((client) => client.destroy()));
    }
  });

  test('SIGTERM drains every worker: in-flight requests are answered, one line per answered request; each chain verifies', async () => {
    const clients = Array.from({ length: 4 }, () => new Client(proxy.url, { pipelining: 1 }));
    const answeredIds: string[] = [];
    try {
      holding = true;
      const loops = clients.map(async (client, index) => {
        for (let round = 0; ; round++) {
          const id = `drain-${index}-${round}`;
          try {
            const response = await client.request({ path: '/', method: 'GET', headers: { host: 'app.test', 'x-request-id': id } });
            await response.body.text();
            answeredIds.push(id);
          } catch {
            return; // the connection was closed by the stop: this request was not answered
          }
        }
      });
      await until(() => held.length === clients.length, 'every client to have a request held at the upstream', 10_000);
      proxy.child.kill('SIGTERM');
      await until(() => (proxy.stderr().match(/"signal":"primary","msg":"stopping"/g) ?? []).length === 2, 'both workers to begin their stop', 10_000);
      holding = false;
      for (const release of held.splice(0)) release();
      const exit = await within('the primary to exit', new Promise<number | null>((resolve) => (proxy.child.exitCode !== null ? resolve(proxy.child.exitCode) : proxy.child.once('exit', resolve))));
      assert.equal(exit, 0);
      await within('the clients to finish', Promise.all(loops));
      for (let index = 0; index < clients.length; index++) assert.ok(answeredIds.includes(`drain-${index}-0`), `client ${index}'s held request was answered`);
      const lines = (await workerRecords(logDir())).filter((record) => record.id.startsWith('drain-'));
      assert.deepEqual(lines.map((record) => record.id).sort(), [...answeredIds].sort(), 'exactly one line per answered request');
      assert.deepEqual(new Set(lines.map((record) => record.proxy)), new Set(WORKERS));
    } finally {
      await Promise.all(clients.map((client) => client.destroy()));
    }
    // A chain per worker, worker 1's continued across its kill -9, each signed to its last line at stop.
    const verification = emptyVerification();
    await verifyFiles(logDir(), new Map([[keyIdOf(publicKey), publicKey]]), verification);
    assert.deepEqual(verification.findings, []);
    assert.deepEqual(verification.chains.map((chain) => chain.proxy).sort(), WORKERS);
    for (const chain of verification.chains) assert.equal(chain.signedThrough, chain.last, `${chain.proxy}: signed to its last line at stop`);
  });
});

test('a bad workers value exits 1 naming the key', async () => {
  const dir = await tempDir('workers-bad');
  try {
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ proxy_id: PROXY_ID, workers: 0, listen: { port: 0 }, access_log: { dir: 'logs' }, services: [{ id: 'app', hosts: ['app.test'], upstream: 'http://127.0.0.1:1', auth: { method: 'none' } }] }));
    const { code, stderr } = await within('the proxy to exit', runProxyMain(join(dir, 'bad.json')).done);
    assert.equal(code, 1);
    assert.match(stderr, /^ {2}workers: /m);
  } finally {
    await removeDir(dir);
  }
});
