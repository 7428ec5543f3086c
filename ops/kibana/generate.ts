// `node ops/kibana/generate.ts [--prefix proxy-events] [--out file]`: writes the Kibana saved
// objects (NDJSON) for an index prefix. The committed ops/kibana/saved-objects.ndjson is the
// default prefix's; run this for another prefix.

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { indexPrefixSchema } from '../../common/config.ts';
import { DEFAULT_INDEX_PREFIX } from '../../common/proxy-event-document.ts';
import { savedObjectsNdjson } from './saved-objects.ts';

const DEFAULT_OUTPUT = fileURLToPath(new URL('./saved-objects.ndjson', import.meta.url));

const { values } = parseArgs({ options: { prefix: { type: 'string', default: DEFAULT_INDEX_PREFIX }, out: { type: 'string', default: DEFAULT_OUTPUT } } });
const prefix = indexPrefixSchema.safeParse(values.prefix);
if (!prefix.success) {
  process.stderr.write(`--prefix: "${values.prefix}": ${prefix.error.issues[0]!.message}\n`);
  process.exit(1);
}
writeFileSync(values.out, savedObjectsNdjson(prefix.data));
process.stdout.write(`wrote ${values.out} for ${values.prefix}-*\n`);
