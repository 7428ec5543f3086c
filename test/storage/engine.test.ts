// `elasticsearch.engine`: a bad value or an API key for OpenSearch exits 1 naming the key, and a
// shipper or API pointed at the other engine than the test cluster's exits 1 naming both. Runs on
// whichever engine the test cluster is.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../api/config.ts';
import { ConfigError } from '../../common/errors.ts';
import { createStorage } from '../../common/storage/create.ts';
import { ENGINE_NAMES, identifyCluster, type Engine } from '../../common/search-engine.ts';
import { engineOf } from '../../common/storage/engine.ts';
import { loadConfig } from '../../shipper/config.ts';
import { TOKEN } from '../api/harness.ts';
import { childEnv, testConnection } from '../helpers/elasticsearch.ts';
import { hashToken } from '../../api/tokens.ts';

const PREFIX = `t-engine-${randomBytes(3).toString('hex')}`;
const TOKENS = [{ name: 'ops', sha256: hashToken(TOKEN) }];
/** How long a process may take to reach the cluster, tell its engine and exit. */
const EXIT_WITHIN_MS = 60_000;

function configProblem(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail('configuration was accepted');
}

/** Runs `node args…` to its exit (killed after EXIT_WITHIN_MS): its code and stderr. */
function runToExit(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_WITHIN_MS);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    }),
  );
}

describe('elasticsearch.engine in the configuration', () => {
  it('defaults to elasticsearch and takes opensearch, from the file or ELASTICSEARCH_ENGINE', () => {
    const shipper = loadConfig(['--logs', 'l', '--state', 's'], { ELASTICSEARCH_URL: 'http://h:9200' });
    assert.equal(engineOf(shipper.elasticsearch), 'elasticsearch');
    const fromEnv = loadConfig(['--logs', 'l', '--state', 's'], { ELASTICSEARCH_URL: 'http://h:9200', ELASTICSEARCH_ENGINE: 'opensearch' });
    assert.equal(fromEnv.elasticsearch.engine, 'opensearch');
    const api = parseConfig({ tokens: TOKENS, elasticsearch: { engine: 'opensearch', url: 'http://h:9200', username: 'u', password: 'p' } }, {});
    assert.equal(api.elasticsearch.engine, 'opensearch');
  });

  it('names elasticsearch.engine when it is neither engine, and elasticsearch.api_key with OpenSearch', () => {
    assert.match(configProblem(() => parseConfig({ tokens: TOKENS, elasticsearch: { engine: 'solr', url: 'http://h:9200' } }, {})), /^ {2}elasticsearch\.engine: /m);
    assert.match(configProblem(() => loadConfig(['--logs', 'l', '--state', 's'], { ELASTICSEARCH_URL: 'http://h:9200', ELASTICSEARCH_ENGINE: 'OpenSearch' })), /ELASTICSEARCH_\* environment\):\n {2}elasticsearch\.engine: /);
    assert.match(
      configProblem(() => parseConfig({ tokens: TOKENS, elasticsearch: { engine: 'opensearch', url: 'http://h:9200', api_key: 'a2V5' } }, {})),
      /^ {2}elasticsearch\.api_key: OpenSearch takes username and password/m,
    );
  });
});

describe('the engine checked at start', () => {
  const connection = testConnection();
  const engine = engineOf(connection);
  const other: Engine = engine === 'elasticsearch' ? 'opensearch' : 'elasticsearch';
  const mismatch = new RegExp(`${connection.url.replaceAll('.', '\\.')} runs ${ENGINE_NAMES[engine]}.*, but the configured engine is ${other}`);
  const storage = createStorage(connection);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'engine-check-'));
  });
  after(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Neither an index nor a template under the prefix the processes were given. */
  async function nothingWritten() {
    assert.deepEqual(await storage.resolveIndices([`${PREFIX}*`]), []);
    assert.deepEqual((await storage.indexTemplates()).filter(({ name }) => name.startsWith(PREFIX)), []);
  }

  it(`tells the test cluster is ${engine} from its GET /`, async () => {
    assert.equal((await identifyCluster(connection)).engine, engine);
  });

  it(`stops a shipper configured for ${other} with exit 1, naming both, before it writes anything`, async () => {
    const { code, stderr } = await runToExit(
      ['shipper/main.ts', '--logs', join(dir, 'logs'), '--state', join(dir, 'state'), '--index-prefix', PREFIX],
      childEnv({ ...connection, engine: other }),
    );
    assert.equal(code, 1, stderr);
    assert.match(stderr, new RegExp(`^shipper: ${mismatch.source}`, 'm'));
    await nothingWritten();
  });

  it(`stops an API configured for ${other} with exit 1, naming both`, async () => {
    const file = join(dir, 'api.json');
    await writeFile(file, JSON.stringify({ tokens: TOKENS, listen: { port: 0 }, audit: { file: join(dir, 'audit.ndjson') }, index_prefix: PREFIX, elasticsearch: { ...connection, engine: other } }));
    const { code, stderr } = await runToExit(['api/main.ts', '--config', file], childEnv());
    assert.equal(code, 1, stderr);
    assert.match(stderr, new RegExp(`^api: ${mismatch.source}`, 'm'));
    await nothingWritten();
  });
});
