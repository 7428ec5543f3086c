// No route from a test to production: with the operator's ELASTICSEARCH_* naming another cluster
// (a decoy here, recording every request), test/run.ts and a suite it runs reach only the test node.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { configuredTestConnection } from './helpers/elasticsearch.ts';

test('ELASTICSEARCH_* naming a decoy: the suite and what it starts reach only the test node', async () => {
  const seen: string[] = [];
  const decoy = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => decoy.listen(0, '127.0.0.1', resolve));
  const decoyUrl = `http://127.0.0.1:${(decoy.address() as AddressInfo).port}`;
  try {
    assert.ok(configuredTestConnection(), 'the suite has its test node');
    const env: NodeJS.ProcessEnv = { ...process.env, ELASTICSEARCH_URL: decoyUrl, ELASTICSEARCH_USERNAME: 'elastic', ELASTICSEARCH_PASSWORD: 'production-password', ELASTICSEARCH_API_KEY: 'production-key' };
    // Set for the files node:test runs; with it, the inner runner would refuse to run as a nested one.
    delete env.NODE_TEST_CONTEXT;
    const run = spawn(process.execPath, ['test/run.ts', 'test/helpers/isolation-probe.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    run.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    run.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(run, 'exit')) as [number | null];
    assert.equal(code, 0, output);
    assert.match(output, /ℹ pass 1\b/);
    assert.deepEqual(seen, [], 'the decoy saw no request');
  } finally {
    decoy.closeAllConnections();
    await new Promise<void>((resolve) => decoy.close(() => resolve()));
  }
});
