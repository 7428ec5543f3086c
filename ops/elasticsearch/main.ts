// `npm run elasticsearch`: local Elasticsearch in the foreground until Ctrl-C or SIGTERM, which stop
// every node. Without --nodes, one node with security off (as `npm start` and `npm test` use);
// with --nodes N, a secured cluster of N nodes with TLS, whose URL, CA file and superuser it prints.
// With --engine opensearch, one OpenSearch node with security off instead. With --data DIR the
// indices survive restarts; without, they live in a temporary folder.

import { parseArgs } from 'node:util';
import { ProxyAccessLogError } from '../../common/errors.ts';
import { ENGINES, isEngine } from '../../common/search-engine.ts';
import { startLocalCluster } from './local-cluster.ts';
import { startLocalNode } from './local-node.ts';

function fail(message: string): never {
  process.stderr.write(`elasticsearch: ${message}\n`);
  process.exit(1);
}

let values: { engine: string; data?: string; nodes?: string; heap?: string };
try {
  ({ values } = parseArgs({ options: { engine: { type: 'string', default: 'elasticsearch' }, data: { type: 'string' }, nodes: { type: 'string' }, heap: { type: 'string' } } }));
} catch (error) {
  fail((error as Error).message);
}
const engine = values.engine;
if (!isEngine(engine)) fail(`--engine: one of ${ENGINES.join(', ')}`);
if (values.nodes !== undefined && engine !== 'elasticsearch') fail('--nodes: a secured cluster is Elasticsearch only; leave it out with --engine opensearch');
if (values.nodes !== undefined && !/^[1-9]\d*$/.test(values.nodes)) fail('--nodes: a whole number of nodes, at least 1');
if (values.heap !== undefined && !/^\d+[mg]$/.test(values.heap)) fail('--heap: a size such as 512m or 1g');

/** A node or cluster that did not start: its explanation (start-failure.ts), not a stack trace. */
async function started<T>(starting: Promise<T>): Promise<T> {
  try {
    return await starting;
  } catch (error) {
    if (error instanceof ProxyAccessLogError) fail(error.message);
    throw error;
  }
}

const log = (line: string) => console.error(line);
let stop: () => Promise<void>;
if (values.nodes === undefined) {
  const node = await started(startLocalNode({ engine, dataDir: values.data, heap: values.heap, log }));
  console.log(`ELASTICSEARCH_URL=${node.url}`);
  stop = node.stop;
} else {
  const cluster = await started(startLocalCluster({ nodes: Number(values.nodes), dataDir: values.data, heap: values.heap, log }));
  console.log(`ELASTICSEARCH_URL=${cluster.url}`);
  console.log(`ELASTICSEARCH_CA_FILE=${cluster.caFile}`);
  console.log(`ELASTICSEARCH_USERNAME=${cluster.superuser.username}`);
  console.log(`ELASTICSEARCH_PASSWORD=${cluster.superuser.password}`);
  console.log(`# nodes: ${cluster.nodes.map((node) => node.url).join(' ')}`);
  stop = cluster.stop;
}

let stopping = false;
const onSignal = async () => {
  if (stopping) return;
  stopping = true;
  await stop();
  process.exit(0);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
