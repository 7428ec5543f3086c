// `npm run elasticsearch`: a local single-node Elasticsearch in the foreground, until Ctrl-C.
// With --data DIR its indices survive restarts; without, they live in a temporary folder.

import { parseArgs } from 'node:util';
import { startLocalNode } from './local-node.ts';

const { values } = parseArgs({ options: { data: { type: 'string' } } });
const node = await startLocalNode({ dataDir: values.data, log: (line) => console.error(line) });
console.log(`ELASTICSEARCH_URL=${node.url}`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await node.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
