// A node of its own, with security on (basic auth) as production clusters have it, and with a
// fixed data folder so it can be stopped mid-stream and started again: the shipper indexes through
// basic auth, keeps retrying while the node is away, and loses nothing.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ElasticsearchConnection } from '../../common/elasticsearch-connection.ts';
import { createStorage } from '../../common/storage/create.ts';
import { startLocalNode, type LocalNode } from '../../ops/elasticsearch/local-node.ts';
import { appendRecords } from '../helpers/records.ts';
import { startApi } from '../api/harness.ts';
import { countDocuments, duplicatedEventIds, startShipper, waitForCount } from '../shipper/shipper-process.ts';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PREFIX = 'secured-events';

describe('secured node, stopped and restarted mid-stream', () => {
  const superuser = { username: 'shipper-test', password: randomBytes(12).toString('hex') };
  let dir: string;
  /** Its own temporary folder: the node's user must reach it (mkdtemp makes private folders). */
  let esData: string;
  let node: LocalNode | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shipper-secured-'));
    esData = await mkdtemp(join(tmpdir(), 'shipper-secured-es-'));
    node = await startLocalNode({ dataDir: esData, superuser, heap: '512m' });
  });
  after(async () => {
    await node?.stop();
    await rm(dir, { recursive: true, force: true });
    await rm(esData, { recursive: true, force: true });
  });

  it('indexes through basic auth and loses nothing while the node is down', async () => {
    const connection: ElasticsearchConnection = { url: node!.url, ...superuser, request_timeout_ms: 5_000 };
    const anonymous = await fetch(`${node!.url}/_cluster/health`);
    assert.equal(anonymous.status, 401, 'security is on');

    const logs = join(dir, 'logs');
    const state = join(dir, 'state');
    await mkdir(logs);
    const configFile = join(dir, 'shipper.json');
    await writeFile(
      configFile,
      JSON.stringify({
        logs,
        state,
        index_prefix: PREFIX,
        elasticsearch: connection,
        retry: { initial_delay_ms: 100, max_delay_ms: 1_000 },
      }),
    );
    let next = 0;
    let file = 1;
    const write = (lines: number) => {
      appendRecords(logs, file, next, next + lines);
      next += lines;
      if (next % 1_000 === 0) file++;
    };
    for (let i = 0; i < 10; i++) write(200);

    const storage = createStorage(connection);
    const shipper = startShipper({ logs, state, connection, prefix: PREFIX, args: ['--config', configFile] });
    try {
      assert.equal(await waitForCount(storage, PREFIX, next), next, 'indexed through basic auth');

      // Mid-stream: lines keep coming while the node goes away and comes back on the same port.
      const writer = (async () => {
        for (let i = 0; i < 40; i++) {
          write(100);
          await pause(150);
        }
      })();
      await pause(1_000);
      const port = Number(new URL(node!.url).port);
      await node!.stop();
      node = undefined;
      await pause(3_000);
      assert.match(shipper.stderr(), /retrying/, 'the shipper notices the node is gone and retries');
      node = await startLocalNode({ dataDir: esData, superuser, heap: '512m', httpPort: port });
      await writer;
      assert.equal(await waitForCount(storage, PREFIX, next, 60_000), next, 'every line written before, during and after the outage');
      assert.deepEqual(await duplicatedEventIds(storage, PREFIX), []);
    } finally {
      assert.equal(await shipper.stop(), 0);
      await storage.close();
    }
    assert.ok((await countDocuments(createStorage(connection), PREFIX)) === next);
  });

  it('the API answers 503 naming the refused credentials (never 500) when Elasticsearch answers 401', async () => {
    // A restarted secured cluster answers every API key 401 until its security index is back; a wrong password is the same answer.
    const api = await startApi({ connection: { url: node!.url, username: superuser.username, password: 'not-the-password', request_timeout_ms: 5_000 }, prefix: PREFIX });
    try {
      for (const path of ['/api/events/proxy', '/api/events/proxy/stats', '/api/events/proxy/export']) {
        const { status, body } = await api.json(path);
        assert.equal(status, 503, path);
        assert.equal(body.error, 'API_ELASTICSEARCH_UNAVAILABLE', path);
      }
      const line = api.logLines().find((logged) => logged.error === 'API_ELASTICSEARCH_UNAVAILABLE');
      assert.match(line?.cause ?? '', /401.*credentials were not accepted/);
    } finally {
      await api.close();
    }
  });
});
