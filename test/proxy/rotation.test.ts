// The access log under load and rotation: 50,000 requests through the real proxy process with a
// tiny rotation size (and a 1 s rotation period on top) give exactly 50,000 valid lines across the
// files, none split, none doubled, none lost at SIGTERM. And retention keeps the files bounded.

import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { test } from 'node:test';
import { Pool, request } from 'undici';
import { accessRecordSchema } from '../../common/access-record.ts';
import { waitFor } from '../helpers/wait.ts';
import { logFiles, readRecords, removeDir, startTestProxy, startUpstream, tempDir } from './helpers.ts';
import { spawnProxy } from './process.ts';

const REQUESTS = 50_000;
const CONCURRENCY = 32;

async function drive(url: string, total: number, host: string): Promise<void> {
  const pool = new Pool(url, { connections: 8, pipelining: 1 });
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const index = next++;
      const response = await pool.request({ path: `/item/${index}?q=${index}`, method: 'GET', headers: { host, 'x-request-id': `r${index}` } });
      await response.body.dump();
      assert.equal(response.statusCode, 200);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  await pool.close();
}

test(`${REQUESTS} requests with rotation by size and time: exactly ${REQUESTS} whole, distinct lines`, async () => {
  const upstream = await startUpstream((_seen, res) => res.end('ok'));
  const dir = await tempDir('rotation');
  const proxy = await spawnProxy(dir, {
    proxy_id: 'rotation',
    listen: { host: '127.0.0.1', port: 0 },
    trusted_proxies: ['127.0.0.1'],
    access_log: { dir: `${dir}/logs`, rotation: { size: '64k', frequency: 1000 }, keep: 100_000 },
    services: [{ id: 'app', hosts: ['app.test'], upstream: upstream.url, auth: { method: 'none' } }],
  });
  try {
    await drive(proxy.url, REQUESTS, 'app.test');
    assert.equal(await proxy.terminate(), 0);
  } finally {
    proxy.child.kill();
    await upstream.close();
  }
  const files = await logFiles(`${dir}/logs`);
  assert.ok(files.length > 100, `expected many rotated files, got ${files.length}`);
  const seen = new Set<string>();
  let lines = 0;
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    if (text.length === 0) continue;
    assert.ok(text.endsWith('\n'), `${file} ends mid-line`);
    for (const line of text.slice(0, -1).split('\n')) {
      const record = accessRecordSchema.parse(JSON.parse(line));
      assert.ok(!seen.has(record.id), `line ${record.id} written twice`);
      seen.add(record.id);
      lines++;
    }
  }
  assert.equal(lines, REQUESTS);
  for (let index = 0; index < REQUESTS; index += 997) assert.ok(seen.has(`r${index}`));
  await removeDir(dir);
});

test('retention keeps at most `keep` rotated files besides the current one', async () => {
  const upstream = await startUpstream((_seen, res) => res.end('ok'));
  const dir = await tempDir('retention');
  const proxy = await spawnProxy(dir, {
    proxy_id: 'retention',
    listen: { host: '127.0.0.1', port: 0 },
    access_log: { dir: `${dir}/logs`, rotation: { size: '4k', frequency: 'daily' }, keep: 3 },
    services: [{ id: 'app', hosts: ['app.test'], upstream: upstream.url, auth: { method: 'none' } }],
  });
  try {
    await drive(proxy.url, 2_000, 'app.test');
    assert.equal(await proxy.terminate(), 0);
  } finally {
    proxy.child.kill();
    await upstream.close();
  }
  const files = await logFiles(`${dir}/logs`);
  assert.ok(files.length >= 2 && files.length <= 4, `files kept: ${files.map((file) => file.split('/').pop()).join(', ')}`);
  const numbers = files.map((file) => Number(/access\.(\d+)\.log$/.exec(file)![1]));
  assert.ok(Math.min(...numbers) > 10, 'the oldest files were the ones deleted');
  await removeDir(dir);
});

test('rotation by time: a new file every period, every line kept', async () => {
  const upstream = await startUpstream((_seen, res) => res.end('ok'));
  const proxy = await startTestProxy({
    access_log: { rotation: { size: '100m', frequency: 1000 }, keep: 100 },
    services: [{ id: 'app', hosts: ['app.test'], upstream: upstream.url, auth: { method: 'none' } }],
  });
  const filledFiles = async () => {
    let filled = 0;
    for (const file of await logFiles(proxy.logDir)) if ((await stat(file)).size > 0) filled++;
    return filled;
  };
  let sent = 0;
  try {
    // A request every 50 ms until the lines are spread over three files: three periods at least.
    await waitFor('lines in three log files', async () => {
      const response = await request(`${proxy.url}/tick/${sent}`, { headers: { host: 'app.test' } });
      await response.body.text();
      sent++;
      return (await filledFiles()) >= 3;
    }, { timeoutMs: 15_000, intervalMs: 50 });
  } finally {
    await proxy.stop();
    await upstream.close();
  }
  assert.ok((await filledFiles()) >= 3);
  assert.equal((await readRecords(proxy.logDir)).length, sent);
  await removeDir(proxy.logDir);
});
