// `npm test` after the type check: gives every suite a ready Elasticsearch (the one named by
// ELASTICSEARCH_URL, or a local node started once here), runs node:test over test/**/*.test.ts,
// and stops the node again. Suites reach it through ELASTICSEARCH_URL (test/helpers/elasticsearch.ts).

import { spawn } from 'node:child_process';
import { startLocalNode, type LocalNode } from '../ops/elasticsearch/local-node.ts';

const filters = process.argv.slice(2);
let node: LocalNode | undefined;
if (!process.env.ELASTICSEARCH_URL) {
  node = await startLocalNode({ log: (line) => console.error(`[elasticsearch] ${line}`) });
  process.env.ELASTICSEARCH_URL = node.url;
  process.env.TEST_ELASTICSEARCH_PID = String(node.pid);
}

const patterns = filters.length > 0 ? filters : ['test/**/*.test.ts'];
const runner = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-timeout=600000', ...patterns], {
  stdio: 'inherit',
  env: process.env,
});
const forward = (signal: NodeJS.Signals) => runner.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
const code: number = await new Promise((resolve) => runner.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0))));
await node?.stop();
process.exit(code);
