// `npm test` after the type check: runs node:test suites in one pass per engine, each pass against
// a ready cluster of its engine: the cluster named by TEST_ELASTICSEARCH_URL, or a local node
// started here and stopped after its pass. Without TEST_ENGINE and without suites named, two passes:
// every test/**/*.test.ts on Elasticsearch, then the suites written for both engines
// (BOTH_ENGINES_SUITES) on OpenSearch, whose node starts beside Elasticsearch's so its JVM start is
// not on the clock after the first pass. TEST_ENGINE names one engine (its pass alone); suites named
// on the command line run on TEST_ENGINE's engine (Elasticsearch unless it says otherwise).
// Suites reach the cluster through TEST_ELASTICSEARCH_* and read its engine from TEST_ENGINE
// (test/helpers/elasticsearch.ts). The operator's ELASTICSEARCH_* never reach a suite or anything
// a suite starts: they name the cluster the product writes to, perhaps production.

import { spawn, type ChildProcess } from 'node:child_process';
import { connectionEnv, withoutConnectionEnv } from '../common/elasticsearch-connection.ts';
import type { Engine } from '../common/search-engine.ts';
import { startLocalNode, type LocalNode } from '../ops/elasticsearch/local-node.ts';
import { ALL_SUITES, BOTH_ENGINES_SUITES } from './engine-suites.ts';
import { configuredTestConnection, OWN_NODE_PID_ENV, TEST_CONNECTION_ENV_PREFIX, TEST_ENGINE_ENV, testEngine } from './helpers/elasticsearch.ts';

interface Pass {
  engine: Engine;
  patterns: string[];
  /** The local node of this pass, starting; none when TEST_ELASTICSEARCH_URL names the cluster. */
  node?: Promise<LocalNode>;
}

const filters = process.argv.slice(2);
const baseEnv = withoutConnectionEnv(process.env);
delete baseEnv[OWN_NODE_PID_ENV];
let engine: Engine;
try {
  engine = testEngine(baseEnv);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
const ownNodes = !configuredTestConnection(baseEnv);

const passes: Pass[] =
  filters.length > 0 ? [{ engine, patterns: filters }]
  : baseEnv[TEST_ENGINE_ENV] || !ownNodes ? [{ engine, patterns: engine === 'opensearch' ? BOTH_ENGINES_SUITES : ALL_SUITES }]
  : [
      { engine: 'elasticsearch', patterns: ALL_SUITES },
      { engine: 'opensearch', patterns: BOTH_ENGINES_SUITES },
    ];
if (ownNodes) {
  for (const pass of passes) {
    pass.node = startLocalNode({ engine: pass.engine, log: (line) => console.error(`[${pass.engine}] ${line}`) });
    // A later pass's node is awaited only when its pass comes; its failure is reported then.
    pass.node.catch(() => {});
  }
}

let runner: ChildProcess | undefined;
let interrupted = false;
const forward = (signal: NodeJS.Signals) => {
  interrupted = true;
  runner?.kill(signal);
};
process.on('SIGINT', forward);
process.on('SIGTERM', forward);

async function runPass(pass: Pass): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...baseEnv, [TEST_ENGINE_ENV]: pass.engine };
  const node = await pass.node;
  if (node) {
    Object.assign(env, connectionEnv({ url: node.url, request_timeout_ms: 10_000 }, TEST_CONNECTION_ENV_PREFIX));
    env[OWN_NODE_PID_ENV] = String(node.pid);
  }
  const started = Date.now();
  try {
    if (interrupted) return 1;
    runner = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-timeout=600000', ...pass.patterns], { stdio: 'inherit', env });
    const running = runner;
    const code: number = await new Promise((resolve) => running.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0))));
    const seconds = Math.round((Date.now() - started) / 1000);
    console.error(`[${pass.engine}] pass ${code === 0 ? 'passed' : 'failed'} in ${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s (${pass.patterns.join(' ')})`);
    return code;
  } finally {
    await node?.stop();
  }
}

let exitCode = 0;
for (const [i, pass] of passes.entries()) {
  try {
    exitCode = (await runPass(pass)) || exitCode;
  } catch (error) {
    // A node that did not start: its pass fails, and the nodes of later passes are stopped unused.
    console.error(`[${pass.engine}] ${(error as Error).message}`);
    for (const later of passes.slice(i + 1)) await later.node?.then((node) => node.stop(), () => {});
    process.exit(1);
  }
}
process.exit(exitCode);
