// Live reload of the real proxy process: ten SIGHUP reloads under 10 s of load lose no request and
// leave exactly one line per request, keep open connections, in-flight requests and sessions;
// each reload writes one diagnostics line naming what changed; a bad configuration is refused
// with its key named while the old one keeps serving; `watch_config` reloads on a file change.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, request } from 'undici';
import { LOGIN_PATH } from '../../proxy/auth/endpoints.ts';
import { waitFor } from '../helpers/wait.ts';
import { cheapSecretHash, echo, readRecords, removeDir, startUpstream, tempDir, type Upstream } from './helpers.ts';
import { spawnProxy, type ProxyProcess } from './process.ts';

const PASSWORD = 'reload secret';
const LOAD_MS = 10_000;
const RELOADS = 10;
const CONCURRENCY = 8;
const SLOW_MS = 1_500;

interface DiagnosticsLine {
  msg: string;
  trigger?: string;
  added?: string[];
  removed?: string[];
  changed?: string[];
  restart_needed?: string[];
  problems?: string;
}

function diagnostics(proxy: ProxyProcess, msg: string): DiagnosticsLine[] {
  return proxy
    .stderr()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as DiagnosticsLine)
    .filter((line) => line.msg.startsWith(msg));
}

async function statusOf(proxy: ProxyProcess, host: string, path: string): Promise<number> {
  const response = await request(`${proxy.url}${path}`, { headers: { host } });
  await response.body.dump();
  return response.statusCode;
}

describe('live reload', () => {
  let upstream: Upstream;
  let dir: string;

  before(async () => {
    upstream = await startUpstream((seen, res) => {
      if (seen.url.startsWith('/slow')) setTimeout(() => echo(seen, res), SLOW_MS);
      else echo(seen, res);
    });
    dir = await tempDir('reload');
  });

  after(async () => {
    await upstream.close();
    await removeDir(dir);
  });

  /** The configuration of the i-th reload: `churn` changes every time, `extra` comes and goes. */
  const configOf = (round: number, logDir: string) => ({
    proxy_id: 'reload-proxy',
    workers: 1,
    listen: { host: '127.0.0.1', port: 0 },
    trusted_proxies: ['127.0.0.1'],
    access_log: { dir: logDir },
    services: [
      { id: 'stable', hosts: ['stable.test'], upstream: upstream.url, auth: { method: 'none' } },
      {
        id: 'churn',
        hosts: ['churn.test'],
        upstream: upstream.url,
        auth: { method: 'password', hash: cheapSecretHash(PASSWORD) },
        upstream_timeouts: { connect_ms: 5_000, headers_ms: 30_000 + round, body_ms: 60_000 },
      },
      ...(round % 2 === 1 ? [{ id: 'extra', hosts: ['extra.test'], upstream: upstream.url, auth: { method: 'none' } }] : []),
    ],
  });

  test('ten reloads under 10 s of load: no request lost, one line each, sessions and open requests kept', async (t) => {
    const logDir = join(dir, 'load-logs');
    const proxy = await spawnProxy(dir, configOf(0, logDir));
    const pool = new Pool(proxy.url, { connections: CONCURRENCY, pipelining: 1 });
    let poolClosed = false;
    try {
      const login = await pool.request({ method: 'POST', path: LOGIN_PATH, headers: { host: 'churn.test', 'content-type': 'application/x-www-form-urlencoded' }, body: `password=${encodeURIComponent(PASSWORD)}` });
      await login.body.dump();
      assert.equal(login.statusCode, 303);
      const cookie = String(login.headers['set-cookie']).split(';')[0]!;

      /** The status, or the error's code when the request failed: a lost request is a failure like any other. */
      const send = async (host: string, path: string, id: string): Promise<number | string> => {
        try {
          const response = await pool.request({ method: 'GET', path, headers: { host, cookie, 'x-request-id': id } });
          await response.body.dump();
          return response.statusCode;
        } catch (error) {
          return (error as { code?: string }).code ?? String(error);
        }
      };
      // Started before the first reload changes its service, answered only after it.
      const slow = send('churn.test', '/slow', 'slow-across-reload');

      const statuses = new Map<string, number | string>();
      let sent = 0;
      const deadline = Date.now() + LOAD_MS;
      const worker = async () => {
        while (Date.now() < deadline) {
          const id = `load-${sent++}`;
          const host = sent % 2 === 0 ? 'stable.test' : 'churn.test';
          statuses.set(id, await send(host, `/item/${id}`, id));
        }
      };
      const load = Promise.all(Array.from({ length: CONCURRENCY }, worker));

      for (let round = 1; round <= RELOADS; round++) {
        await sleep(LOAD_MS / (RELOADS + 1));
        await writeFile(join(dir, 'proxy.config.json'), JSON.stringify(configOf(round, logDir)));
        proxy.child.kill('SIGHUP');
        await waitFor(`reload ${round}`, () => diagnostics(proxy, 'configuration reloaded').length >= round, { timeoutMs: 5_000 });
        if (round === 1) assert.equal(await slow, 200, 'the request in flight across the reload is answered');
      }
      await load;

      assert.ok(sent > 200, `load was sent (${sent} requests)`);
      t.diagnostic(`${sent} requests in ${LOAD_MS} ms across ${RELOADS} reloads`);
      assert.equal(statuses.size, sent);
      const failed = [...statuses].filter(([, status]) => status !== 200);
      assert.deepEqual(failed, [], 'every request answered 200 (the churn ones with the session from before the reloads)');

      const reloads = diagnostics(proxy, 'configuration reloaded');
      assert.equal(reloads.length, RELOADS, 'one diagnostics line per reload');
      reloads.forEach((line, index) => {
        const round = index + 1;
        assert.equal(line.trigger, 'SIGHUP');
        assert.deepEqual(line.changed, ['churn'], `round ${round} changed`);
        assert.deepEqual(line.added, round % 2 === 1 ? ['extra'] : [], `round ${round} added`);
        assert.deepEqual(line.removed, round % 2 === 0 ? ['extra'] : [], `round ${round} removed`);
        assert.deepEqual(line.restart_needed, []);
      });

      poolClosed = true;
      await pool.close();
      assert.equal(await proxy.terminate(), 0);
      const lines = (await readRecords(logDir)).filter((record) => record.id.startsWith('load-'));
      const perId = new Map<string, number>();
      for (const line of lines) perId.set(line.id, (perId.get(line.id) ?? 0) + 1);
      assert.equal(perId.size, sent, 'a line for every request');
      assert.deepEqual([...perId].filter(([, count]) => count !== 1), [], 'exactly one line per request');
      assert.ok(lines.every((line) => line.status === 200 && line.service === (line.host === 'stable.test' ? 'stable' : 'churn')));
    } finally {
      if (!poolClosed) await pool.destroy();
      if (proxy.child.exitCode === null) await proxy.terminate();
    }
  });

  test('a bad configuration on reload is refused naming its key, and the old one keeps serving', async () => {
    const logDir = join(dir, 'bad-logs');
    const proxy = await spawnProxy(dir, configOf(1, logDir));
    try {
      const bad = configOf(2, logDir);
      (bad.services[0] as { auth: unknown }).auth = { method: 'password', hash: 'not-a-hash' };
      await writeFile(join(dir, 'proxy.config.json'), JSON.stringify({ ...bad, surprise: true }));
      proxy.child.kill('SIGHUP');
      const [refused] = await waitFor('the refusal', () => {
        const lines = diagnostics(proxy, 'configuration reload refused');
        return lines.length > 0 && lines;
      }, { timeoutMs: 5_000 });
      assert.match(refused!.problems!, /^ {2}services\[0\]\.auth\.hash: not a scrypt hash/m);
      assert.match(refused!.problems!, /^ {2}surprise: unknown key/m);
      assert.equal(diagnostics(proxy, 'configuration reloaded').length, 0);
      // Still the old configuration: stable without auth, and extra (which the bad one dropped).
      for (const host of ['stable.test', 'extra.test']) {
        assert.equal(await statusOf(proxy, host, '/still'), 200, host);
      }
      assert.equal(proxy.child.exitCode, null, 'the proxy keeps running');

      // A good file afterwards is applied.
      await writeFile(join(dir, 'proxy.config.json'), JSON.stringify(configOf(2, logDir)));
      proxy.child.kill('SIGHUP');
      await waitFor('the good reload', () => diagnostics(proxy, 'configuration reloaded').length === 1, { timeoutMs: 5_000 });
      assert.equal(await statusOf(proxy, 'extra.test', '/gone'), 404);
    } finally {
      assert.equal(await proxy.terminate(), 0);
    }
  });

  test('watch_config: a changed file is reloaded without a signal', async () => {
    const logDir = join(dir, 'watch-logs');
    const proxy = await spawnProxy(dir, { ...configOf(0, logDir), watch_config: true });
    try {
      assert.equal(await statusOf(proxy, 'extra.test', '/'), 404);
      await writeFile(join(dir, 'proxy.config.json'), JSON.stringify({ ...configOf(1, logDir), watch_config: true }));
      const [line] = await waitFor('the reload on change', () => {
        const lines = diagnostics(proxy, 'configuration reloaded');
        return lines.length > 0 && lines;
      }, { timeoutMs: 5_000 });
      assert.equal(line!.trigger, 'file change');
      assert.deepEqual(line!.added, ['extra']);
      assert.equal(await statusOf(proxy, 'extra.test', '/'), 200);
    } finally {
      assert.equal(await proxy.terminate(), 0);
    }
  });
});
