// `npm test` after the type check: gives every suite a ready Elasticsearch (the cluster named by
// TEST_ELASTICSEARCH_URL, or a local node started once here), runs node:test over
// test/**/*.test.ts, and stops the node again. Suites reach it through TEST_ELASTICSEARCH_*
// (test/helpers/elasticsearch.ts). The operator's ELASTICSEARCH_* never reach a suite or anything
// a suite starts: they name the cluster the product writes to, perhaps production.

import { spawn } from 'node:child_process';
import { connectionEnv, withoutConnectionEnv } from '../common/elasticsearch-connection.ts';
import { startLocalNode, type LocalNode } from '../ops/elasticsearch/local-node.ts';
import { configuredTestConnection, OWN_NODE_PID_ENV, TEST_CONNECTION_ENV_PREFIX } from './helpers/elasticsearch.ts';

const filters = process.argv.slice(2);
const env = withoutConnectionEnv(process.env);
delete env[OWN_NODE_PID_ENV];
let node: LocalNode | undefined;
if (!configuredTestConnection(env)) {
  node = await startLocalNode({ log: (line) => console.error(`[elasticsearch] ${line}`) });
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
