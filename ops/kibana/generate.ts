// `node ops/kibana/generate.ts [--prefix proxy-events] [--out file]`: writes the Kibana saved
// objects (NDJSON) for an index prefix. The committed ops/kibana/saved-objects.ndjson is the
// default prefix's; run this for another prefix.

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_INDEX_PREFIX } from '../../common/proxy-event-document.ts';
import { savedObjectsNdjson } from './saved-objects.ts';

const DEFAULT_OUTPUT = fileURLToPath(new URL('./saved-objects.ndjson', import.meta.url));
const PREFIX_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;

const { values } = parseArgs({ options: { prefix: { type: 'string', default: DEFAULT_INDEX_PREFIX }, out: { type: 'string', default: DEFAULT_OUTPUT } } });
if (!PREFIX_PATTERN.test(values.prefix)) {
  process.stderr.write(`--prefix: "${values.prefix}" is not a valid index prefix (lower-case letters, digits, . _ -)\n`);
  process.exit(1);
}
writeFileSync(values.out, savedObjectsNdjson(values.prefix));
process.stdout.write(`wrote ${values.out} for ${values.prefix}-*\n`);
