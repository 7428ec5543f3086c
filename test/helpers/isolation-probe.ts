// A suite that test/isolation.test.ts runs through test/run.ts while ELASTICSEARCH_* name a decoy
// cluster: it works on the test node through the shared helper, and starts a command that reads
// ELASTICSEARCH_* (retention) the way suites start the product, with the environment suites get.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { connectionFromEnv } from '../../common/elasticsearch-connection.ts';
import { createUpcomingIndices, installIndexTemplate } from '../../common/index-lifecycle.ts';
import { DEFAULT_INDEX_PREFIX } from '../../common/proxy-event-document.ts';
import { testElasticsearch } from './elasticsearch.ts';

test('the helper reaches the test node; nothing the suite starts sees ELASTICSEARCH_*', async () => {
  const es = testElasticsearch('isolation');
  try {
    await installIndexTemplate(es.storage, es.prefix);
    assert.equal((await createUpcomingIndices(es.storage, es.prefix)).length, 2);
  } finally {
    await es.cleanup();
  }
  const retention = spawnSync(process.execPath, ['ops/retention/main.ts', '--days', '1', '--index-prefix', DEFAULT_INDEX_PREFIX], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(retention.status, 1);
  assert.match(retention.stderr, /ELASTICSEARCH_URL: not set/);
  assert.equal(connectionFromEnv(), undefined, 'the suite’s environment names no cluster');
});
