// The API as a process: configuration errors name their key and exit 1, it serves with a real
// config, keeps tokens and query strings out of its log, and stops cleanly on SIGTERM. And the
// token-hashing command.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../api/config.ts';
import { ConfigError } from '../../common/errors.ts';
import { freePort } from '../../ops/free-port.ts';
import { childEnv, testConnection } from '../helpers/elasticsearch.ts';
import { scrapePrometheus } from '../helpers/prometheus.ts';
import { waitFor } from '../helpers/wait.ts';
import { TOKEN } from './harness.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const VALID = { index_prefix: 'api-main-test', tokens: [{ name: 'ops', sha256: sha256(TOKEN) }] };

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'api-main-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function configError(raw: unknown, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfig(raw, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.code, 'CONFIG_INVALID');
    return error.message;
  }
  assert.fail('configuration was accepted');
}

describe('configuration', () => {
  it('names the offending key', () => {
    const es = { url: 'http://127.0.0.1:9200' };
    assert.match(configError({ ...VALID, tokens: [], elasticsearch: es }), /tokens: must list at least one token/);
    assert.match(configError({ ...VALID, tokens: [{ name: 'x', sha256: 'abc' }], elasticsearch: es }), /tokens\[0\]\.sha256: /);
    assert.match(configError({ ...VALID, listen: { hots: 'x' }, elasticsearch: es }), /listen\.hots: unknown key/);
    assert.match(configError({ ...VALID, listen: { port: 70000 }, elasticsearch: es }), /listen\.port: /);
    assert.match(configError({ ...VALID, listen: { host: 'localhost' }, elasticsearch: es }), /listen\.host: must be an IP address/);
    assert.match(configError({ ...VALID, elasticsearch: { url: 'ftp://x' } }), /elasticsearch\.url: /);
    assert.match(configError({ ...VALID, cors: { origins: ['https://x.example/path'] }, elasticsearch: es }), /cors\.origins\[0\]: must be an origin/);
    assert.match(configError({ ...VALID, insights: { brute_force: { min_denied: 1 } }, elasticsearch: es }), /insights\.brute_force\.min_denied: /);
    assert.match(configError({ ...VALID, insights: { error_spike: { p_value: 2 } }, elasticsearch: es }), /insights\.error_spike\.p_value: /);
    assert.match(configError({ ...VALID, insights: { outside_hours: { wiki: { time_zone: 'Mars/Olympus' } } }, elasticsearch: es }), /insights\.outside_hours\.wiki\.time_zone: must be an IANA time zone/);
    assert.match(configError({ ...VALID, insights: { outside_hours: { wiki: { from: '18:00', to: '08:00' } } }, elasticsearch: es }), /insights\.outside_hours\.wiki\.to: must be after from/);
    assert.match(configError({ ...VALID, insights: { new_country: { history_dayz: 3 } }, elasticsearch: es }), /insights\.new_country\.history_dayz: unknown key/);
    assert.match(configError(VALID), /elasticsearch: required \(or set ELASTICSEARCH_URL\)/);
    assert.match(configError(VALID, { ELASTICSEARCH_URL: 'ftp://x' }), /ELASTICSEARCH_\* environment\):\n {2}elasticsearch\.url: /);
  });

  it('takes Elasticsearch from the environment when the file has none, with defaults for the rest', () => {
    const config = parseConfig({ tokens: VALID.tokens }, { ELASTICSEARCH_URL: 'http://127.0.0.1:9200' });
    assert.equal(config.elasticsearch.url, 'http://127.0.0.1:9200');
    assert.equal(config.index_prefix, 'proxy-events');
    assert.deepEqual(config.listen, { host: '127.0.0.1', port: 8082 });
    assert.deepEqual(config.cors.origins, []);
    assert.deepEqual(config.insights.brute_force, { min_denied: 20, window_minutes: 10 });
    assert.equal(config.insights.error_spike.p_value, 0.001);
    assert.deepEqual(config.insights.outside_hours, {});
  });
});

function run(args: string[]) {
  return spawnSync(process.execPath, args, { env: childEnv(), encoding: 'utf8', timeout: 30_000 });
}

describe('node api/main.ts', () => {
  it('exits 1 naming the key of a bad configuration, or without --config', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ ...VALID, elasticsearch: { url: 'http://127.0.0.1:9200' }, tokens: [{ name: 'x', sha256: 'nope' }], listen: { host: 'example.com' }, insights: { credential_spray: { window_minutes: 0 } } }));
    const bad = run(['api/main.ts', '--config', file]);
    assert.equal(bad.status, 1);
    assert.ok(bad.stderr.startsWith(`api: invalid configuration (${file}):\n`), bad.stderr);
    assert.match(bad.stderr, /^ {2}tokens\[0\]\.sha256: must be a 64-digit/m);
    assert.match(bad.stderr, /^ {2}listen\.host: must be an IP address$/m);
    assert.match(bad.stderr, /^ {2}insights\.credential_spray\.window_minutes: /m);
    const missing = run(['api/main.ts']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /usage: node api\/main.ts --config <file>/);
    const unreadable = run(['api/main.ts', '--config', join(dir, 'absent.json')]);
    assert.equal(unreadable.status, 1);
    assert.match(unreadable.stderr, /cannot read configuration file .*absent\.json/);
    await writeFile(file, '{ "tokens": ');
    const broken = run(['api/main.ts', '--config', file]);
    assert.equal(broken.status, 1);
    assert.match(broken.stderr, /configuration file .*bad\.json is not valid JSON/);
  });

  it('serves, keeps tokens and query strings out of its log, and exits 0 on SIGTERM', async () => {
    const api = await startApi('good.json', {});
    assert.equal((await fetch(`${api.url}/healthz`)).status, 200);
    const listed = await fetch(`${api.url}/api/events/proxy?search=needle-in-the-query`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(listed.status, 200);
    assert.equal((await listed.json()).total_records, 0);
    const log = await api.stop();
    assert.match(log, /"msg":"stopped"/);
    assert.match(log, /"path":"\/api\/events\/proxy"/);
    assert.doesNotMatch(log, /needle-in-the-query/);
    assert.ok(!log.includes(TOKEN));
  });

  it('serves Prometheus metrics on their own listener: requests by route, Elasticsearch calls and failures', async () => {
    const api = await startApi('metrics.json', { metrics: { port: 0 } });
    const metricsUrl = /"metrics_url":"([^"]+)"/.exec(api.log())![1]!;
    const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
    for (let i = 0; i < 2; i++) assert.equal((await fetch(`${api.url}/api/events/proxy?page_size=1`, auth)).status, 200);
    assert.equal((await fetch(`${api.url}/api/events/proxy?page_size=0`, auth)).status, 400);
    assert.equal((await fetch(`${api.url}/metrics`)).status, 404, 'not on the API port');
    const samples = await scrapePrometheus(metricsUrl);
    assert.equal(samples.get('api_request_duration_seconds_count', { route: '/api/events/proxy', method: 'GET', status: '200' }), 2);
    assert.equal(samples.get('api_request_duration_seconds_count', { route: '/api/events/proxy', method: 'GET', status: '400' }), 1);
    assert.equal(samples.get('api_request_duration_seconds_count', { route: 'unmatched', method: 'GET', status: '404' }), 1);
    assert.equal(samples.get('api_elasticsearch_duration_seconds_count', { operation: 'search' }), 2);
    assert.equal(samples.all('api_elasticsearch_errors_total').length, 0);
    await api.stop();

    const dead = await startApi('dead.json', { metrics: { port: 0 }, elasticsearch: { ...testConnection(), url: `http://127.0.0.1:${await freePort()}` } });
    assert.equal((await fetch(`${dead.url}/api/events/proxy`, auth)).status, 503);
    const failed = await scrapePrometheus(/"metrics_url":"([^"]+)"/.exec(dead.log())![1]!);
    assert.equal(failed.get('api_elasticsearch_errors_total', { operation: 'search', error: 'API_ELASTICSEARCH_UNAVAILABLE' }), 1);
    assert.equal(failed.get('api_request_duration_seconds_count', { route: '/api/events/proxy', method: 'GET', status: '503' }), 1);
    await dead.stop();
  });
});

/** Starts `node api/main.ts` on a config of VALID plus `extra`; `stop` sends SIGTERM, checks the exit code 0 and returns the log. */
async function startApi(name: string, extra: Record<string, unknown>) {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify({ ...VALID, listen: { port: 0 }, elasticsearch: testConnection(), ...extra }));
  const child = spawn(process.execPath, ['api/main.ts', '--config', file], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (log += chunk));
  const url = await waitFor('the API to listen', () => {
    const line = log.split('\n').find((l) => l.includes('"listening"'));
    return line && (JSON.parse(line) as { url: string }).url;
  }, { timeoutMs: 20_000 });
  return {
    url,
    log: () => log,
    async stop(): Promise<string> {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      return log;
    },
  };
}

describe('node api/hash-token.ts', () => {
  it('prints the digest the configuration wants, and makes a token when given none', () => {
    const given = run(['api/hash-token.ts', TOKEN]);
    assert.equal(given.status, 0);
    assert.equal(given.stdout.trim(), sha256(TOKEN));
    const made = run(['api/hash-token.ts']);
    const [, token, digest] = /token:\s+(\S+)\nsha256: ([0-9a-f]{64})/.exec(made.stdout) ?? [];
    assert.ok(token && token.length >= 40);
    assert.equal(digest, sha256(token));
    const short = run(['api/hash-token.ts', 'short']);
    assert.equal(short.status, 1);
  });
});
