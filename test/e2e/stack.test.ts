// `npm start -- --engine <TEST_ENGINE>` and `npm run demo:traffic` as a new user runs them (on the
// node test/run.ts started, passed explicitly, with the stack's folder moved to a temporary one):
// the stack comes up on its documented ports with every part configured for the engine, the demo
// traffic lands in the API with every kind of outcome, and Ctrl-C stops it cleanly. The demo writes
// the fixed prefix demo-proxy-events, so the suite runs only on a node of its own, never on a
// shared TEST_ELASTICSEARCH_URL cluster.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { DEFAULT_INDEX_PREFIX, dailyIndexName, indexPattern, indexTemplateName } from '../../common/proxy-event-document.ts';
import { portInUse } from '../../ops/free-port.ts';
import { DEMO_INDEX_PREFIX, PORTS } from '../../ops/stack/demo.ts';
import { childEnv, testConnection, testEngine, testNodeIsOwn } from '../helpers/elasticsearch.ts';
import { createStorage } from '../../common/storage/create.ts';
import { ENGINE_NAMES } from '../../common/search-engine.ts';

const REPO = join(import.meta.dirname, '..', '..');

function collect(child: ChildProcess): { text: () => string } {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { text: () => output };
}

const PAST_DAY = new Date('2000-01-01T00:00:00Z');
/** Stands for an operator's own data: `proxy-events-*` on the same cluster. */
const OPERATOR_SENTINEL = dailyIndexName(DEFAULT_INDEX_PREFIX, PAST_DAY);
const DEMO_SENTINEL = dailyIndexName(DEMO_INDEX_PREFIX, PAST_DAY);
const STACK = join(REPO, 'ops/stack/main.ts');

test('npm start refuses an engine it does not know, naming --engine', async () => {
  const stack = spawn(process.execPath, [STACK, '--engine', 'solr'], { env: childEnv(undefined, { STACK_DIR: join(tmpdir(), 'proxy-access-log-never-made') }), stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collect(stack);
  const [code] = await once(stack, 'exit');
  assert.equal(code, 1);
  assert.match(output.text(), /--engine: one of elasticsearch, opensearch, not "solr"/);
});

describe(`npm start -- --engine ${testEngine()} and demo:traffic`, { skip: !testNodeIsOwn() && 'the demo writes demo-proxy-events-*: only on the node test/run.ts starts' }, () => {
  const engine = testEngine();
  let stackDir: string;
  let stack: ChildProcess;
  let output: { text: () => string };
  // The cluster without its engine: --engine alone tells the stack which one it is.
  const { engine: _named, ...cluster } = testConnection();
  const env = () => childEnv(cluster, { STACK_DIR: stackDir });
  const storage = createStorage(testConnection());
  const apiToken = async () => (await readFile(join(stackDir, 'api-token'), 'utf8')).trim();

  before(async () => {
    for (const [name, port] of Object.entries(PORTS)) {
      assert.equal(await portInUse(port), false, `port ${port} (${name}) is free: stop a running \`npm start\` before this suite`);
    }
    // A day long past under each prefix: the demo's retention (30 days) must expire its own only.
    for (const index of [OPERATOR_SENTINEL, DEMO_SENTINEL]) await storage.createIndex(index);
    stackDir = await mkdtemp(join(tmpdir(), 'proxy-access-log-stack-'));
    stack = spawn(process.execPath, [STACK, '--engine', engine], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    output = collect(stack);
    const deadline = Date.now() + 120_000;
    while (!output.text().includes('The stack is up')) {
      assert.equal(stack.exitCode, null, `the stack exited while starting:\n${output.text()}`);
      assert.ok(Date.now() < deadline, `the stack did not come up within 120 s:\n${output.text()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  after(async () => {
    if (stack && stack.exitCode === null) {
      stack.kill('SIGKILL');
    }
    await storage.deleteIndices([indexPattern(DEMO_INDEX_PREFIX), OPERATOR_SENTINEL]);
    await storage.deleteIndexTemplate(indexTemplateName(DEMO_INDEX_PREFIX));
    await storage.close();
    if (stackDir) await rm(stackDir, { recursive: true, force: true });
  });

  interface Stats {
    total_records: number;
    requests_over_time: Record<string, number>[];
    top_countries: unknown[];
  }

  /** The API's stats once `ready` holds for their total (or the last answer after 20 s). */
  async function statsWhen(ready: (total: number) => boolean): Promise<Stats> {
    const token = await apiToken();
    const deadline = Date.now() + 20_000;
    let stats: Stats | undefined;
    while (Date.now() < deadline) {
      const response = await fetch(`http://127.0.0.1:${PORTS.api}/api/events/proxy/stats`, { headers: { authorization: `Bearer ${token}` } });
      if (response.status === 200) {
        stats = (await response.json()) as Stats;
        if (ready(stats.total_records)) break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(stats, 'the API answered');
    return stats;
  }

  it('prints the engine, the demo services, the API token and a curl line', async () => {
    const token = await apiToken();
    assert.ok(output.text().includes(`The stack is up, on ${ENGINE_NAMES[engine]}.`));
    assert.ok(output.text().includes(`API token: ${token}`));
    for (const host of ['public.localhost', 'wiki.localhost', 'door.localhost', 'dashboard.localhost']) assert.ok(output.text().includes(host), host);
    assert.match(output.text(), /curl -s -H 'Authorization: Bearer /);
  });

  it(`configures the shipper and the API for ${engine}`, async () => {
    for (const part of ['shipper', 'api']) {
      const config = JSON.parse(await readFile(join(stackDir, `${part}.config.json`), 'utf8')) as { elasticsearch: { engine?: string } };
      assert.equal(config.elasticsearch.engine, engine, part);
    }
  });

  it('turns demo traffic into searchable events of every outcome', async () => {
    // The stack's own readiness probe went through the proxy too (a 404 for host 127.0.0.1).
    const baseline = (await statsWhen((total) => total >= 1)).total_records;
    const traffic = spawn(process.execPath, [join(REPO, 'ops/stack/demo-traffic.ts'), '--requests', '200', '--seconds', '90'], {
      env: env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const trafficOutput = collect(traffic);
    const [code] = await once(traffic, 'exit');
    assert.equal(code, 0, trafficOutput.text());
    const sent = Number(/done: (\d+) requests/.exec(trafficOutput.text())?.[1]);
    assert.ok(sent >= 200, `sent ${sent} requests`);

    const stats = await statsWhen((total) => total >= baseline + sent);
    assert.equal(stats.total_records, baseline + sent, 'every request the demo sent through the proxy is in the API');
    const byCategory = (name: string) => stats.requests_over_time.reduce((sum, bucket) => sum + (bucket[name] ?? 0), 0);
    for (const category of ['allowed', 'denied', 'error', 'client_error']) assert.ok(byCategory(category) > 0, `some ${category} requests`);
    assert.ok(stats.top_countries.length >= 5, 'visitors from many countries');

    const list = await fetch(`http://127.0.0.1:${PORTS.api}/api/events/proxy?page_size=5`, { headers: { authorization: `Bearer ${await apiToken()}` } });
    assert.equal(list.status, 200);
    const page = (await list.json()) as { data: { host: string }[]; total_records: number };
    assert.equal(page.total_records, stats.total_records, 'the events list counts what the stats count');
    assert.equal(page.data.length, 5);
    assert.ok(page.data.every((event) => event.host.endsWith('.localhost')), 'each event names the host it was sent to');
  });

  it('writes and expires only its own prefix, demo-proxy-events, leaving proxy-events-* alone', async () => {
    // Through a pattern: a missing index named outright is a 404 on Elasticsearch and nothing on OpenSearch.
    const exists = async (index: string) => (await storage.resolveIndices([`${index}*`])).includes(index);
    const deadline = Date.now() + 20_000;
    while (await exists(DEMO_SENTINEL)) {
      assert.ok(Date.now() < deadline, `the demo's retention did not expire ${DEMO_SENTINEL} within 20 s`);
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(await exists(OPERATOR_SENTINEL), true, `${OPERATOR_SENTINEL} survives the demo's retention`);
    await storage.refresh(indexPattern(DEMO_INDEX_PREFIX));
    assert.ok((await storage.count(indexPattern(DEMO_INDEX_PREFIX))) > 0, 'the demo’s events are under its prefix');
    assert.equal(await storage.count(indexPattern(DEFAULT_INDEX_PREFIX)), 0, 'and none under proxy-events');
  });

  it('refuses a second start while one runs, saying why', async () => {
    const second = spawn(process.execPath, [STACK, '--engine', engine], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    const secondOutput = collect(second);
    const [code] = await once(second, 'exit');
    assert.equal(code, 1);
    assert.match(secondOutput.text(), /port \d+ \(\w+\) is already in use on 127\.0\.0\.1: is another `npm start` running\?/);
  });

  it('stops cleanly on Ctrl-C', async () => {
    stack.kill('SIGINT');
    const [code] = await Promise.race([once(stack, 'exit'), new Promise<[string]>((r) => setTimeout(() => r(['timeout']), 60_000))]);
    assert.equal(code, 0, output.text().slice(-3000));
    for (const port of Object.values(PORTS)) assert.equal(await portInUse(port), false, `port ${port} released`);
  });
});
