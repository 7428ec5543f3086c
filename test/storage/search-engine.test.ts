// Which engine a cluster runs, asked of the suites' cluster (Elasticsearch unless TEST_ENGINE says
// otherwise; `npm test` runs this file on each engine, so both are asked without a node started
// here), and of a server that is neither. A mismatch names both engines.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ElasticsearchConnection } from '../../common/elasticsearch-connection.ts';
import { checkEngine, ENGINE_NAMES, identifyCluster, type ClusterIdentity, type Engine } from '../../common/search-engine.ts';
import { DISTRIBUTIONS } from '../../ops/elasticsearch/engines.ts';
import { testConnection, testEngine, testNodeIsOwn } from '../helpers/elasticsearch.ts';

/**
 * What a local node answers: Elasticsearch's integ-test distribution leaves out the module that
 * serves `GET /` (a 405 that still carries its product header), so only OpenSearch names a version.
 */
const localIdentity = (engine: Engine): ClusterIdentity => (engine === 'opensearch' ? { engine, version: DISTRIBUTIONS.opensearch.version } : { engine });
const connectionTo = (url: string, extra: Partial<ElasticsearchConnection> = {}): ElasticsearchConnection => ({ url, request_timeout_ms: 5_000, ...extra });

describe('search engine detection', () => {
  const engine = testEngine();
  const other: Engine = engine === 'elasticsearch' ? 'opensearch' : 'elasticsearch';
  let neither: Server;
  before(async () => {
    neither = createServer((request, response) => {
      response.writeHead(request.headers.authorization ? 403 : 200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ name: 'not a search engine', version: { number: '1.0.0' } }));
    });
    await new Promise<void>((resolve) => neither.listen(0, '127.0.0.1', resolve));
  });
  after(() => {
    neither?.close();
  });

  it(`tells the suites' cluster runs ${engine}`, async () => {
    const suites = await identifyCluster(testConnection());
    assert.equal(suites.engine, engine);
    if (testNodeIsOwn()) assert.deepEqual(suites, localIdentity(engine));
  });

  it(`accepts ${engine} configured and names both engines when ${other} is`, async () => {
    assert.equal((await checkEngine(testConnection(), engine)).engine, engine);
    await assert.rejects(checkEngine(testConnection(), other), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ENGINE_MISMATCH');
      assert.ok(error.message.includes(`runs ${ENGINE_NAMES[engine]}`), error.message);
      assert.ok(error.message.includes(`configured engine is ${other} (${ENGINE_NAMES[other]})`), error.message);
      return true;
    });
  });

  it('asks the next node when the first does not answer', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    assert.equal((await identifyCluster({ ...testConnection(), url, nodes: [testConnection().url] })).engine, engine);
  });

  it('says so when the answer names neither engine, or the credentials may not read it', async () => {
    const url = `http://127.0.0.1:${(neither.address() as AddressInfo).port}`;
    await assert.rejects(identifyCluster(connectionTo(url)), { code: 'ENGINE_UNKNOWN', message: `${url} answered GET / with 200, so which engine it runs is unknown: the answer names neither Elasticsearch nor OpenSearch` });
    await assert.rejects(identifyCluster(connectionTo(url, { api_key: 'a2V5' })), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'ENGINE_UNKNOWN');
      assert.match(error.message, /with 403.*cluster privilege `monitor` \(Elasticsearch\) or `cluster:monitor\/main` \(OpenSearch\)/);
      return true;
    });
  });
});
