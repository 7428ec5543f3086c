// `npm run setup-elasticsearch -- --url URL [--ca FILE] --user NAME [--index-prefix P]`, run once by
// an operator with an admin account: installs the index template, creates the shipper's, the API's
// and retention's roles and API keys, and prints each part's connection with its key. The password
// comes from ELASTICSEARCH_PASSWORD or, on a terminal, a prompt; never from the command line, where
// other users could read it in the process list.

import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { createElasticsearchClient, elasticsearchConnectionSchema, type ElasticsearchConnection } from '../../common/elasticsearch-connection.ts';
import { indexPrefixSchema, validateConfig } from '../../common/config.ts';
import { setupAccess } from './access.ts';

function fail(message: string): never {
  process.stderr.write(`setup-elasticsearch: ${message}\n`);
  process.exit(1);
}

/** Reads a line from the terminal without echoing it. */
async function promptHidden(question: string): Promise<string> {
  const input = process.stdin;
  process.stderr.write(question);
  input.setRawMode(true);
  input.resume();
  input.setEncoding('utf8');
  let answer = '';
  return await new Promise((resolve) => {
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') {
          input.setRawMode(false);
          input.pause();
          input.off('data', onData);
          process.stderr.write('\n');
          resolve(answer);
          return;
        }
        if (char === '\u0003') process.exit(130);
        answer = char === '\u007f' ? answer.slice(0, -1) : answer + char;
      }
    };
    input.on('data', onData);
  });
}

let values: { url?: string; ca?: string; user?: string; 'index-prefix'?: string };
try {
  ({ values } = parseArgs({
    options: { url: { type: 'string' }, ca: { type: 'string' }, user: { type: 'string' }, 'index-prefix': { type: 'string' } },
  }));
} catch (error) {
  fail((error as Error).message);
}
if (values.user === undefined) fail('--user: the admin account to set up with is required');
const password = process.env.ELASTICSEARCH_PASSWORD || (process.stdin.isTTY ? await promptHidden(`password for ${values.user}: `) : undefined);
if (!password) fail('ELASTICSEARCH_PASSWORD: not set, and no terminal to ask on');

let connection: ElasticsearchConnection;
let prefix: string;
try {
  connection = validateConfig(elasticsearchConnectionSchema, { url: values.url, ca_file: values.ca && resolve(values.ca), username: values.user, password }, 'command line', ['elasticsearch']);
  prefix = validateConfig(indexPrefixSchema, values['index-prefix'], 'command line', ['index_prefix']);
} catch (error) {
  fail((error as Error).message);
}

const client = createElasticsearchClient(connection);
try {
  const access = await setupAccess(client, prefix);
  process.stderr.write(`setup-elasticsearch: index template for ${prefix}-* installed; roles ${access.map((a) => a.role).join(', ')} created\n`);
  const section = (apiKey: string) => JSON.stringify({ url: connection.url, ...(connection.ca_file && { ca_file: connection.ca_file }), api_key: apiKey });
  for (const { part, apiKey } of access) {
    if (part === 'retention') {
      process.stdout.write(`# retention (npm run retention): environment\nELASTICSEARCH_URL=${connection.url}\n`);
      if (connection.ca_file) process.stdout.write(`ELASTICSEARCH_CA_FILE=${connection.ca_file}\n`);
      process.stdout.write(`ELASTICSEARCH_API_KEY=${apiKey}\n`);
    } else {
      process.stdout.write(`# ${part}: the "elasticsearch" section of its configuration\n"elasticsearch": ${section(apiKey)}\n`);
    }
  }
} catch (error) {
  fail(`Elasticsearch: ${(error as Error).message}`);
} finally {
  await client.close();
}
