// The access log on a full disk: a 1 MiB tmpfs mounted by the test, filled with a filler file while
// the real proxy process serves. For each policy: the memory held is bounded by buffer_max_bytes,
// `serve` keeps answering and records the dropped count in one line, `refuse` answers 503 once the
// buffer is full; deleting the filler lets the proxy write everything it held, without a restart,
// with no torn line, and the diagnostics say it once at the start and once at the end. The trail
// over it verifies, the dropped lines reported as a declared gap.

import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { DROPPED_LINES_REASON } from '../../common/access-record.ts';
import { mountTmpfs, unmount } from '../helpers/mount.ts';
import { ACCESS_LOG_UNAVAILABLE_REASON, ACCESS_LOG_UNAVAILABLE_STATUS } from '../../proxy/exchange.ts';
import type { AccessLogStatus, WhenUnwritable } from '../../proxy/line-writer.ts';
import { makeKeyPair, verifyTrail, type KeyPair } from '../trail/verify-trail.ts';
import { readRecords, removeDir, serviceConfig, startUpstream, tempDir, type Upstream } from './helpers.ts';
import { spawnProxy, type ProxyProcess } from './process.ts';

const BUFFER_MAX_BYTES = 256 * 1024;
/** Long paths make each line about 8 KiB: the lines sent while the disk is full (~48 MB) ... */
const PATH_PADDING = 'p'.repeat(8_000);
const REQUESTS_WHILE_FULL = 6_000;
/** ... would not fit in the proxy's heap, limited to this, if it held them all. */
const PROXY_HEAP_LIMIT_MB = 64;

/** Writes zeros into `path` until the file system has no space left. */
function fillDisk(path: string): void {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(16_384);
  try {
    for (;;) writeSync(fd, block);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
}

async function health(statusUrl: string): Promise<{ code: number; accessLog: AccessLogStatus }> {
  const response = await fetch(`${statusUrl}/health`);
  return { code: response.status, accessLog: ((await response.json()) as { access_log: AccessLogStatus }).access_log };
}

async function waitForState(statusUrl: string, state: AccessLogStatus['state']): Promise<AccessLogStatus> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { accessLog } = await health(statusUrl);
    if (accessLog.state === state) return accessLog;
    if (Date.now() > deadline) throw new Error(`access log state ${accessLog.state}, waited for ${state}`);
    await sleep(50);
  }
}

/** Sends requests `from`..`to`-1 (path `/r/<tag>-<i>/...`), 16 at a time; their statuses by index. */
async function send(pool: Pool, tag: string, from: number, to: number): Promise<Map<number, { status: number; body: string }>> {
  const answers = new Map<number, { status: number; body: string }>();
  let next = from;
  const worker = async () => {
    while (next < to) {
      const i = next++;
      const response = await pool.request({ method: 'GET', path: `/r/${tag}-${i}/${PATH_PADDING}`, headers: { host: 'app.test' } });
      answers.set(i, { status: response.statusCode, body: await response.body.text() });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return answers;
}

describe('access log on a full disk', () => {
  let dir: string;
  let upstream: Upstream;
  let keys: KeyPair;
  const mounted: string[] = [];
  const proxies: ProxyProcess[] = [];
  before(async () => {
    dir = await tempDir('unwritable');
    upstream = await startUpstream((_seen, res) => res.end('ok'));
    keys = await makeKeyPair(dir);
  });
  after(async () => {
    for (const proxy of proxies) if (proxy.child.exitCode === null) proxy.child.kill('SIGKILL');
    for (const path of mounted) unmount(path);
    await upstream.close();
    await removeDir(dir);
  });

  async function startOnTmpfs(t: TestContext, policy: WhenUnwritable): Promise<{ proxy: ProxyProcess; logs: string; statusUrl: string } | undefined> {
    const logs = join(dir, `logs-${policy}`);
    await mkdir(logs);
    const refused = mountTmpfs(logs, '1m');
    if (refused) {
      t.skip(`cannot mount a tmpfs at ${logs} (${refused}): the test needs root or CAP_SYS_ADMIN`);
      return undefined;
    }
    mounted.push(logs);
    // The child inherits the limit; a proxy holding every line would die of it.
    process.env.NODE_OPTIONS = `--max-old-space-size=${PROXY_HEAP_LIMIT_MB}`;
    const proxy = await spawnProxy(dir, {
      proxy_id: `full-${policy}`,
      listen: { host: '127.0.0.1', port: 0 },
      status: { port: 0 },
      access_log: { dir: logs, when_unwritable: policy, buffer_max_bytes: BUFFER_MAX_BYTES, signing_key_file: keys.privateFile },
      services: [serviceConfig('app', upstream.url)],
    }).finally(() => delete process.env.NODE_OPTIONS);
    proxies.push(proxy);
    const statusPort = Number(/"status_port":(\d+)/.exec(proxy.stderr())![1]);
    return { proxy, logs, statusUrl: `http://127.0.0.1:${statusPort}` };
  }

  /** The proxy on a tmpfs with a few lines written, then the disk filled. */
  async function startFilled(t: TestContext, policy: WhenUnwritable) {
    const started = await startOnTmpfs(t, policy);
    if (!started) return undefined;
    const pool = new Pool(started.proxy.url, { connections: 16 });
    await send(pool, 'before', 0, 10);
    const deadline = Date.now() + 5_000;
    while ((await readRecords(started.logs)).length < 10 && Date.now() < deadline) await sleep(20);
    fillDisk(join(started.logs, 'filler'));
    return { ...started, pool };
  }

  async function checkRecovery(proxy: ProxyProcess, logs: string, statusUrl: string, pool: Pool, sentWhileFull: number) {
    const full = await health(statusUrl);
    await rm(join(logs, 'filler'));
    const recovered = await waitForState(statusUrl, 'writable');
    assert.equal(recovered.dropped_lines, full.accessLog.dropped_lines, 'nothing dropped once space is back');
    const afterwards = await send(pool, 'after', 0, 20);
    assert.ok([...afterwards.values()].every((answer) => answer.status === 200), 'serves normally after recovery');
    const deadline = Date.now() + 5_000;
    let records = await readRecords(logs); // throws on a torn line: every line must parse
    while (records.filter((record) => record.path.startsWith('/r/after-')).length < 20 && Date.now() < deadline) {
      await sleep(50);
      records = await readRecords(logs);
    }
    const ids = records.map((record) => record.id);
    assert.equal(new Set(ids).size, ids.length, 'each line once');
    const droppedLines = records.filter((record) => record.reason?.startsWith(DROPPED_LINES_REASON));
    assert.equal(droppedLines.length, 1, 'one line counts the dropped lines');
    const dropped = Number(droppedLines[0]!.reason!.slice(`${DROPPED_LINES_REASON}: `.length));
    assert.equal(droppedLines[0]!.reason, `${DROPPED_LINES_REASON}: ${full.accessLog.dropped_lines}`);
    const whileFull = records.filter((record) => record.path.startsWith('/r/full-'));
    assert.equal(whileFull.length + dropped, sentWhileFull, 'every request while full is either recorded or counted as dropped');
    assert.ok(whileFull.length > 0, 'the held lines were written');
    const order = records.map((record) => (record.reason?.startsWith(DROPPED_LINES_REASON) ? 'dropped' : record.path.split('-')[0]));
    assert.ok(order.lastIndexOf('/r/full') < order.indexOf('dropped') && order.indexOf('dropped') < order.indexOf('/r/after'), 'held lines, then the count, then new lines');

    assert.equal(await proxy.terminate(), 0);
    const diagnostics = proxy.stderr().split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line) as Record<string, unknown>);
    const started = diagnostics.filter((line) => line.msg === 'access log unwritable: holding lines in memory, retrying');
    const ended = diagnostics.filter((line) => line.msg === 'access log writable again: held lines written');
    assert.equal(started.length, 1, 'one line when writing starts failing');
    assert.equal(ended.length, 1, 'one line when it recovers');
    assert.equal(started[0]!.cause, 'no space left on device (ENOSPC)');
    assert.match(String(started[0]!.path), new RegExp(`^${logs}/access\\.\\d+\\.log$`));
    assert.equal(ended[0]!.lines_dropped, dropped);
    assert.equal(ended[0]!.lines_held, whileFull.length);
    assert.ok(Number(ended[0]!.duration_ms) > 0);
    assert.ok(diagnostics.every((line) => !JSON.stringify(line).includes('"stack"')), 'no stack for a full disk');
    assert.ok(diagnostics.length < 12, `a handful of diagnostics lines, not one per retry: ${diagnostics.length}`);

    const trail = await verifyTrail(['--files', logs, '--public-key', keys.publicFile]);
    assert.equal(trail.code, 0, `the trail verifies: ${trail.stdout}${trail.stderr}`);
    assert.match(trail.stdout, new RegExp(`note: proxy \\S+: declared gap: the proxy could not write ${dropped} lines`));
  }

  it('serve: keeps answering, holds at most buffer_max_bytes, records the dropped count, recovers without restart', async (t) => {
    const started = await startFilled(t, 'serve');
    if (!started) return;
    const { proxy, logs, statusUrl, pool } = started;
    const rssBefore = rssBytes(proxy.child.pid!);

    const answers = await send(pool, 'full', 0, REQUESTS_WHILE_FULL);
    assert.ok([...answers.values()].every((answer) => answer.status === 200), 'every request served');
    t.diagnostic(`RSS ${(rssBytes(proxy.child.pid!) / 1048576).toFixed(0)} MiB after ${REQUESTS_WHILE_FULL} lines of ~8 KiB on a full disk (${(rssBefore / 1048576).toFixed(0)} MiB before)`);

    const { code, accessLog } = await health(statusUrl);
    assert.equal(code, 200);
    assert.equal(accessLog.state, 'unwritable');
    assert.equal(accessLog.policy, 'serve');
    assert.ok(accessLog.buffered_bytes <= BUFFER_MAX_BYTES && accessLog.buffered_bytes > BUFFER_MAX_BYTES - 16_384, `buffered ${accessLog.buffered_bytes}`);
    assert.ok(accessLog.dropped_lines > 0);
    const metrics = await (await fetch(`${statusUrl}/metrics`)).text();
    assert.match(metrics, new RegExp(`^proxy_access_log_dropped_lines_total ${accessLog.dropped_lines}$`, 'm'));
    assert.match(metrics, /^proxy_access_log_writable 0$/m);
    assert.match(metrics, new RegExp(`^proxy_access_log_buffered_bytes ${accessLog.buffered_bytes}$`, 'm'));

    await checkRecovery(proxy, logs, statusUrl, pool, REQUESTS_WHILE_FULL);
    await pool.close();
  });

  it('refuse: answers 503 once the buffer is full, records what it can, resumes by itself', async (t) => {
    const started = await startFilled(t, 'refuse');
    if (!started) return;
    const { proxy, logs, statusUrl, pool } = started;

    const count = 400;
    const answers = await send(pool, 'full', 0, count);
    const refused = [...answers.values()].filter((answer) => answer.status === ACCESS_LOG_UNAVAILABLE_STATUS);
    assert.ok(refused.length > 0, 'some requests refused');
    assert.ok(refused.every((answer) => answer.body === `${ACCESS_LOG_UNAVAILABLE_REASON}\n`));
    // 400 lines of ~8 KiB: the first ~30 fit in the buffer and are served.
    assert.ok(refused.length < count - 20, `served until the buffer was full (${refused.length} refused)`);
    const { code, accessLog } = await health(statusUrl);
    assert.equal(code, 503);
    assert.equal(accessLog.state, 'refusing');
    assert.ok(accessLog.buffered_bytes <= BUFFER_MAX_BYTES);
    assert.match(await (await fetch(`${statusUrl}/metrics`)).text(), /^proxy_access_log_refusing 1$/m);

    await checkRecovery(proxy, logs, statusUrl, pool, count);
    const records = await readRecords(logs);
    const recordedRefusals = records.filter((record) => record.reason === ACCESS_LOG_UNAVAILABLE_REASON);
    for (const record of recordedRefusals) assert.equal(record.status, ACCESS_LOG_UNAVAILABLE_STATUS);
    await pool.close();
  });
});
