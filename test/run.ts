// `npm test` after the type check: gives every suite a ready Elasticsearch (the cluster named by
// TEST_ELASTICSEARCH_URL, or a local node started once here; an OpenSearch node with
// TEST_ENGINE=opensearch), runs node:test over test/**/*.test.ts, and stops the node again. Suites
// reach it through TEST_ELASTICSEARCH_* and read its engine from TEST_ENGINE
// (test/helpers/elasticsearch.ts). The operator's ELASTICSEARCH_* never reach a suite or anything
// a suite starts: they name the cluster the product writes to, perhaps production.

import { spawn } from 'node:child_process';
import { connectionEnv, withoutConnectionEnv } from '../common/elasticsearch-connection.ts';
import type { Engine } from '../common/search-engine.ts';
import { startLocalNode, type LocalNode } from '../ops/elasticsearch/local-node.ts';
import { configuredTestConnection, OWN_NODE_PID_ENV, TEST_CONNECTION_ENV_PREFIX, testEngine } from './helpers/elasticsearch.ts';

const filters = process.argv.slice(2);
const env = withoutConnectionEnv(process.env);
delete env[OWN_NODE_PID_ENV];
let engine: Engine;
try {
  engine = testEngine(env);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
let node: LocalNode | undefined;
if (!configuredTestConnection(env)) {
  node = await startLocalNode({ engine, log: (line) => console.error(`[${engine}] ${line}`) });
  Object.assign(env, connectionEnv({ url: node.url, request_timeout_ms: 10_000 }, TEST_CONNECTION_ENV_PREFIX));
  env[OWN_NODE_PID_ENV] = String(node.pid);
}

const patterns = filters.length > 0 ? filters : ['test/**/*.test.ts'];
const runner = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-timeout=600000', ...patterns], { stdio: 'inherit', env });
const forward = (signal: NodeJS.Signals) => runner.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
const code: number = await new Promise((resolve) => runner.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0))));
await node?.stop();
process.exit(code);
