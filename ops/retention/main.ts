// `npm run retention -- --days N [--dry-run] [--index-prefix P]`: deletes the daily indices older
// than N days (whole UTC days before today) from the cluster named by ELASTICSEARCH_URL and friends.
// Prints what it deleted, or with --dry-run what it would delete, one index per line.

import { parseArgs } from 'node:util';
import { connectionFromEnv, createElasticsearchClient } from '../../common/elasticsearch-connection.ts';
import { applyRetention } from '../../common/index-lifecycle.ts';
import { DEFAULT_INDEX_PREFIX } from '../../common/proxy-event-document.ts';

function fail(message: string): never {
  process.stderr.write(`retention: ${message}\n`);
  process.exit(1);
}

let values: { days?: string; 'dry-run'?: boolean; 'index-prefix'?: string };
try {
  ({ values } = parseArgs({
    options: { days: { type: 'string' }, 'dry-run': { type: 'boolean' }, 'index-prefix': { type: 'string' } },
  }));
} catch (error) {
  fail((error as Error).message);
}
if (values.days === undefined || !/^\d+$/.test(values.days) || Number(values.days) < 1) {
  fail('--days: a whole number of days, at least 1, is required');
}
const connection = connectionFromEnv();
if (!connection) fail('ELASTICSEARCH_URL: not set (with ELASTICSEARCH_API_KEY or ELASTICSEARCH_USERNAME/PASSWORD when secured)');

const client = createElasticsearchClient(connection);
try {
  const result = await applyRetention(client, {
    prefix: values['index-prefix'] ?? DEFAULT_INDEX_PREFIX,
    days: Number(values.days),
    dryRun: values['dry-run'] ?? false,
  });
  const verb = result.dryRun ? 'would delete' : 'deleted';
  process.stderr.write(`retention: keeping days from ${result.cutoff.toISOString().slice(0, 10)}; ${verb} ${result.expired.length}, kept ${result.kept.length}\n`);
  for (const index of result.expired) process.stdout.write(`${index}\n`);
} catch (error) {
  fail(`Elasticsearch: ${(error as Error).message}`);
} finally {
  await client.close();
}
