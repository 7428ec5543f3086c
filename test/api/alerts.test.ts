// `npm run alerts` as a process against a receiver started here: every new finding arrives once,
// signed; a receiver that fails first gets the alert on a retry; later runs and a restart send
// nothing again; SIGTERM exits 0; bad alerts configuration exits 1 naming the key.

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SIGNATURE_HEADER, verify } from '../../api/alerts/signature.ts';
import { defaultInsightsConfig } from '../../api/insights/config.ts';
import { detect } from '../../api/insights/detect.ts';
import { ServiceScope } from '../../api/query/scope.ts';
import { EventStore } from '../../api/event-store.ts';
import { hashToken } from '../../api/tokens.ts';
import type { AccessRecord } from '../../common/access-record.ts';
import { toDocument } from '../../shipper/document.ts';
import { DAY_MS, indexDocuments, loadingStorage } from '../helpers/dataset.ts';
import { childEnv, testElasticsearch, type TestElasticsearch } from '../helpers/elasticsearch.ts';
import { HOME_IP, usualTraffic, type UsualService } from '../helpers/usual-traffic.ts';
import { waitFor } from '../helpers/wait.ts';
import { TOKEN } from './harness.ts';

const SECRET = 'webhook-secret-0123456789';
const SERVICES: UsualService[] = [
  { id: 'wiki', host: 'wiki.example.com', auth: 'password', users: ['alice'] },
  { id: 'shop', host: 'shop.example.com', auth: 'none', users: [] },
];
const WINDOW_MS = 10 * 60_000;

/** A brute force on wiki and a 5xx burst on shop, inside one 10-minute window half an hour ago. */
function attacks(): AccessRecord[] {
  const windowStart = Math.floor((Date.now() - 30 * 60_000) / WINDOW_MS) * WINDOW_MS;
  const record = (i: number, service: UsualService, status: number, ip: string): AccessRecord => ({
    time: new Date(windowStart + i * 1_000).toISOString(),
    id: `attack-${service.id}-${i}`,
    service: service.id,
    method: 'POST',
    host: service.host,
    path: '/login',
    status,
    duration_ms: 2,
    source_ip: ip,
    auth_method: service.auth,
    bytes_in: 0,
    bytes_out: 10,
    protocol: 'https',
    proxy: 'proxy-alerts',
    reason: status === 401 ? 'invalid password' : 'upstream connection refused',
  });
  return [
    ...Array.from({ length: 30 }, (_, i) => record(i, SERVICES[0]!, 401, '133.242.0.1')),
    ...Array.from({ length: 30 }, (_, i) => record(i, SERVICES[1]!, 502, HOME_IP.bob)),
  ];
}

interface Received {
  body: string;
  signature: string | undefined;
}

async function receiver(failFirst: number): Promise<{ server: Server; url: string; accepted: Received[]; refused: number }> {
  const state = { accepted: [] as Received[], refused: 0 };
  const server = createServer(async (request: IncomingMessage, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    if (state.refused < failFirst) {
      state.refused++;
      response.writeHead(503).end();
      return;
    }
    state.accepted.push({ body, signature: request.headers[SIGNATURE_HEADER] as string | undefined });
    response.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const result = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, accepted: state.accepted, get refused() { return state.refused; } };
  return result;
}

describe('npm run alerts', () => {
  let es: TestElasticsearch;
  let dir: string;
  let steady: Awaited<ReturnType<typeof receiver>>;
  let flaky: Awaited<ReturnType<typeof receiver>>;
  let expected: string[];

  before(async () => {
    es = testElasticsearch('alerts');
    dir = await mkdtemp(join(tmpdir(), 'alerts-'));
    const now = Date.now();
    const client = loadingStorage(es.connection);
    try {
      const usual = usualTraffic({ services: SERVICES, start: now - 8 * DAY_MS, end: now - 2 * 3_600_000, perHour: 10, seed: 3 });
      await indexDocuments(client, es.prefix, [...usual, ...attacks()].map(toDocument));
      const store = new EventStore(client, es.prefix, 30_000);
      expected = (await detect(store, new ServiceScope(undefined), defaultInsightsConfig(), { start: now - 3_600_000, end: now })).map((f) => f.id).sort();
    } finally {
      await client.close();
    }
    assert.ok(expected.length >= 3, 'brute force, denial spike and error spike');
    steady = await receiver(0);
    flaky = await receiver(2);
    await writeFile(join(dir, 'secret'), `${SECRET}\n`);
  });

  after(async () => {
    steady?.server.close();
    flaky?.server.close();
    await es?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  async function configFile(alerts: unknown): Promise<string> {
    const file = join(dir, 'api.json');
    await writeFile(file, JSON.stringify({ elasticsearch: es.connection, index_prefix: es.prefix, tokens: [{ name: 't', sha256: hashToken(TOKEN) }], alerts }));
    return file;
  }

  const ALERTS = () => ({
    interval_seconds: 1,
    state_file: 'alerts-state.json',
    backoff_ms: 50,
    webhooks: [
      { name: 'steady', url: steady.url, secret_file: 'secret' },
      { name: 'flaky', url: flaky.url, secret_file: 'secret' },
    ],
  });

  function start(file: string): { child: ChildProcess; runs: () => number; exited: Promise<number | null> } {
    const child = spawn(process.execPath, ['api/alerts/main.ts', '--config', file], { env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    let runs = 0;
    let log = '';
    child.stderr!.on('data', (chunk) => {
      log += chunk;
      const lines = log.split('\n');
      log = lines.pop()!;
      for (const line of lines) if (JSON.parse(line).msg === 'run done') runs++;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, runs: () => runs, exited };
  }

  function ids(received: Received[]): string[] {
    return received.map((r) => (JSON.parse(r.body) as { finding: { id: string } }).finding.id).sort();
  }

  it('sends each new finding once to each webhook, signed, retrying one that fails, and never again after a restart', async () => {
    const file = await configFile(ALERTS());
    const first = start(file);
    await waitFor('three runs', () => first.runs() >= 3, { timeoutMs: 60_000, intervalMs: 100 });
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0);
    assert.deepEqual(ids(steady.accepted), expected);
    assert.deepEqual(ids(flaky.accepted), expected);
    assert.equal(flaky.refused, 2);
    for (const received of [...steady.accepted, ...flaky.accepted]) assert.ok(verify(SECRET, received.body, received.signature), 'signed with the secret');

    const second = start(file);
    await waitFor('two runs after the restart', () => second.runs() >= 2, { timeoutMs: 60_000, intervalMs: 100 });
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0);
    assert.equal(steady.accepted.length, expected.length);
    assert.equal(flaky.accepted.length, expected.length);
  });

  it('exits 1 naming the key of a bad alerts configuration', async () => {
    const run = (file: string) => spawnSync(process.execPath, ['api/alerts/main.ts', '--config', file], { env: childEnv(), encoding: 'utf8', timeout: 30_000 });
    const badUrl = run(await configFile({ ...ALERTS(), webhooks: [{ name: 'x', url: 'ftp://x', secret_file: 'secret' }] }));
    assert.equal(badUrl.status, 1);
    assert.match(badUrl.stderr, /alerts\.webhooks\[0\]\.url: must be an http or https URL/);
    const noSecret = run(await configFile({ ...ALERTS(), webhooks: [{ name: 'x', url: steady.url, secret_file: 'absent' }] }));
    assert.equal(noSecret.status, 1);
    assert.match(noSecret.stderr, /alerts\.webhooks\[0\]\.secret_file: cannot read/);
    const none = run(await configFile(undefined));
    assert.equal(none.status, 1);
    assert.match(none.stderr, /alerts: required/);
    await writeFile(join(dir, 'alerts-state.json'), 'not json');
    const corrupt = run(await configFile(ALERTS()));
    assert.equal(corrupt.status, 1);
    assert.match(corrupt.stderr, /alerts-state\.json is not an alerts state file/);
  });
});
