// `node ops/kibana/generate.ts [--app kibana|opensearch-dashboards] [--prefix proxy-events] [--out file]`:
// writes the saved objects (NDJSON) of Kibana (the default) or OpenSearch Dashboards for an index
// prefix. The committed ops/kibana/saved-objects.ndjson and
// ops/opensearch-dashboards/saved-objects.ndjson are the default prefix's; run this for another.

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { indexPrefixSchema } from '../../common/config.ts';
import { DEFAULT_INDEX_PREFIX } from '../../common/proxy-event-document.ts';
import { APPS, savedObjectsNdjson, type App } from './saved-objects.ts';

const { values } = parseArgs({ options: { app: { type: 'string', default: 'kibana' }, prefix: { type: 'string', default: DEFAULT_INDEX_PREFIX }, out: { type: 'string' } } });
function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
const isApp = (name: string): name is App => Object.hasOwn(APPS, name);
const app = values.app;
if (!isApp(app)) fail(`--app: "${app}": one of ${Object.keys(APPS).join(', ')}`);
const prefix = indexPrefixSchema.safeParse(values.prefix);
if (!prefix.success) fail(`--prefix: "${values.prefix}": ${prefix.error.issues[0]!.message}`);
const out = values.out ?? fileURLToPath(APPS[app].file);
writeFileSync(out, savedObjectsNdjson(prefix.data, app));
process.stdout.write(`wrote ${out} for ${APPS[app].name} and ${values.prefix}-*\n`);
