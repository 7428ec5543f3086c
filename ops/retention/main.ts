// `npm run retention -- --days N [--dry-run] [--index-prefix P]`: deletes the daily indices older
// than N days (whole UTC days before today) from the cluster named by ELASTICSEARCH_URL and friends.
// It first lists every index it is about to delete, one per line on stdout, then their count, and
// only then deletes them (with --dry-run, nothing). A prefix that no index template of this project
// on the cluster covers is refused: it is a typo or someone else's data.

import { parseArgs } from 'node:util';
import { connectionFromEnv } from '../../common/elasticsearch-connection.ts';
import { createStorage } from '../../common/storage/create.ts';
import { checkEngine } from '../../common/search-engine.ts';
import { engineOf } from '../../common/storage/engine.ts';
import { deleteIndices, planRetention, projectTemplates } from '../../common/index-lifecycle.ts';
import { DEFAULT_INDEX_PREFIX } from '../../common/proxy-event-document.ts';

function fail(message: string): never {
  process.stderr.write(`retention: ${message}\n`);
  process.exit(1);
}

const say = (line: string) => process.stderr.write(`retention: ${line}\n`);

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

const prefix = values['index-prefix'] ?? DEFAULT_INDEX_PREFIX;
const dryRun = values['dry-run'] ?? false;
const storage = createStorage(connection);
try {
  await checkEngine(connection, engineOf(connection));
  const templates = await projectTemplates(storage);
  if (!templates.some((template) => template.prefix === prefix)) {
    const found = templates.length > 0 ? templates.map((template) => `  ${template.name} (prefix ${template.prefix})`).join('\n') : '  none';
    fail(`--index-prefix ${prefix}: no index template of this project on ${connection.url} covers this prefix (the shipper installs one at start), so nothing was deleted. This project's templates there:\n${found}`);
  }
  const plan = await planRetention(storage, { prefix, days: Number(values.days) });
  for (const index of plan.expired) process.stdout.write(`${index}\n`);
  const day = plan.cutoff.toISOString().slice(0, 10);
  say(`${plan.expired.length} daily indices of ${prefix} are older than ${day}; ${plan.kept.length} kept${dryRun ? '. Dry run: nothing deleted' : ''}`);
  if (!dryRun && plan.expired.length > 0) {
    await deleteIndices(storage, plan.expired);
    say(`deleted ${plan.expired.length}`);
  }
} catch (error) {
  fail(`Elasticsearch: ${(error as Error).message}`);
} finally {
  await storage.close();
}
