// The API's audit log against the real node: every /api request lands in the audit file (token
// name, never the token; parameters; status; records; time; an export's full filter), the
// forwarder copies the file into the daily audit index exactly once, GET /api/audit reads it
// under its own permission with the events endpoint's 400 rules, and an unreachable Elasticsearch
// neither slows nor fails requests: the file keeps them until the index can take them.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { AuditFile } from '../../api/audit/audit-file.ts';
import { AuditForwarder } from '../../api/audit/forwarder.ts';
import { hashToken, type ConfiguredToken } from '../../api/tokens.ts';
import { auditIndexPattern, dailyAuditIndexName, type AuditDocument } from '../../common/api-audit-document.ts';
import { createStorage } from '../../common/storage/create.ts';
import { FIELD } from '../../common/proxy-event-document.ts';
import { loadDataset } from '../helpers/dataset.ts';
import { testElasticsearch, type TestElasticsearch } from '../helpers/elasticsearch.ts';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.ts';
import { waitFor } from '../helpers/wait.ts';
import { startApi, type ApiHarness } from './harness.ts';

const AUDITOR = 'auditor-token-0123456789abcdefghijk';
const TEAM = 'team-token-0123456789abcdefghijklmno';
const TOKENS: ConfiguredToken[] = [
  { name: 'auditor', sha256: hashToken(AUDITOR), permissions: ['read', 'audit'] },
  { name: 'team', sha256: hashToken(TEAM), services: ['wiki'], permissions: ['read', 'export'] },
];
const logger = pino({ level: 'silent' });

let es: TestElasticsearch;
let dir: string;
let file: string;
let audit: AuditFile;
let api: ApiHarness;

before(async () => {
  es = testElasticsearch('api-audit');
  await loadDataset(es.connection, es.prefix, { count: 200, seed: 3 });
  dir = await mkdtemp(join(tmpdir(), 'api-audit-'));
  file = join(dir, 'audit.ndjson');
  audit = new AuditFile(file, logger);
  api = await startApi({ connection: es.connection, prefix: es.prefix, tokens: TOKENS, audit });
});
after(async () => {
  await api?.close();
  await audit?.close();
  await es?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function fileLines(path: string): Promise<AuditDocument[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditDocument);
}

/** The audit file's documents for these request ids, once every one is there. */
async function recorded(path: string, ids: string[]): Promise<Map<string, AuditDocument>> {
  return waitFor(`${ids.length} audit lines in ${path}`, async () => {
    const byId = new Map((await fileLines(path)).map((document) => [document.request_id, document]));
    return ids.every((id) => byId.has(id)) && byId;
  });
}

/** How many documents of the audit index have each of these request ids. */
async function indexedCounts(ids: string[]): Promise<number[]> {
  await es.client.indices.refresh({ index: auditIndexPattern(es.prefix), ignore_unavailable: true, allow_no_indices: true });
  const response = await es.client.search({
    index: auditIndexPattern(es.prefix),
    size: 0,
    query: { terms: { request_id: ids } },
    aggs: { ids: { terms: { field: 'request_id', size: ids.length } } },
  });
  const buckets = (response.aggregations!.ids as { buckets: { key: string; doc_count: number }[] }).buckets;
  return ids.map((id) => buckets.find((bucket) => bucket.key === id)?.doc_count ?? 0);
}

const requestId = (response: Response) => response.headers.get('x-request-id')!;

describe('every API request is recorded', () => {
  const ids: Record<string, string> = {};

  it('in the audit file, first: token name and scope, parameters, status, records, time', async () => {
    const list = await api.get('/api/events/proxy?page_size=5&category=allowed&category=denied', { token: TEAM });
    const page = await list.json();
    assert.equal(list.status, 200);
    ids.list = requestId(list);
    const exported = await api.get('/api/events/proxy/export?format=csv&status=failed', { token: TEAM });
    const csvLines = (await exported.text()).split('\r\n').filter(Boolean).length - 1;
    ids.export = requestId(exported);
    ids.unauthorized = requestId(await api.get('/api/events/proxy', { token: 'not-a-token-of-this-api-0123456789' }));
    ids.forbidden = requestId(await api.get('/api/audit', { token: TEAM }));
    ids.bad = requestId(await api.get('/api/events/proxy?page_size=1000', { token: TEAM }));
    const health = requestId(await api.get('/healthz'));

    const byId = await recorded(file, Object.values(ids));
    const list_ = byId.get(ids.list)!;
    assert.equal(list_.token, 'team');
    assert.deepEqual(list_.services, ['wiki']);
    assert.equal(list_.method, 'GET');
    assert.equal(list_.path, '/api/events/proxy');
    assert.deepEqual(list_.parameters, { page_size: '5', category: ['allowed', 'denied'] });
    assert.equal(list_.status, 200);
    assert.equal(list_.records, page.data.length);
    assert.ok(list_.records > 0);
    assert.ok(list_.duration_ms >= 0);
    assert.ok(Math.abs(Date.parse(list_['@timestamp']) - Date.now()) < 60_000);

    const export_ = byId.get(ids.export)!;
    assert.equal(export_.records, csvLines);
    assert.ok(csvLines > 0);
    assert.deepEqual(export_.parameters, { format: 'csv', status: 'failed' });
    // The full filter: the scope and the parameters' clauses, as Elasticsearch ran them.
    const filter = JSON.stringify(export_.filter);
    assert.ok(filter.includes(JSON.stringify({ terms: { [FIELD.serviceName]: ['wiki'] } })), filter);
    assert.ok(filter.includes(FIELD.statusCode), filter);

    assert.equal(byId.get(ids.unauthorized)!.status, 401);
    assert.equal(byId.get(ids.unauthorized)!.token, undefined);
    assert.equal(byId.get(ids.forbidden)!.status, 403);
    assert.equal(byId.get(ids.bad)!.status, 400);
    assert.equal(byId.get(ids.bad)!.records, 0);

    const text = await readFile(file, 'utf8');
    for (const token of [TEAM, AUDITOR]) assert.ok(!text.includes(token), 'a token reached the audit file');
    assert.ok(!text.includes(health), '/healthz is not an API request');
  });

  it('then in the daily audit index, readable through GET /api/audit with the audit permission', async () => {
    const forwarder = new AuditForwarder({ storage: es.storage, prefix: es.prefix, file, logger, timeoutMs: 30_000 });
    assert.equal(await forwarder.pass(), true);
    assert.deepEqual(await indexedCounts(Object.values(ids)), Object.values(ids).map(() => 1));
    const today = dailyAuditIndexName(es.prefix, new Date());
    assert.ok(await es.client.indices.exists({ index: today }), today);

    const fromFile = await recorded(file, Object.values(ids));
    const start = new Date(Date.now() - 3_600_000).toISOString();
    const answer = await api.get(`/api/audit?start_date=${start}&token=team&page_size=100`, { token: AUDITOR });
    assert.equal(answer.status, 200);
    const body = await answer.json();
    assert.equal(body.total_records, Object.keys(ids).length - 1);
    for (const document of body.data) assert.deepEqual(document, fromFile.get(document.request_id));
    const times = body.data.map((d: AuditDocument) => d['@timestamp']);
    assert.deepEqual(times, [...times].sort().reverse(), 'newest first');

    const exports = await (await api.get('/api/audit?path=/api/events/proxy/export', { token: AUDITOR })).json();
    assert.deepEqual(exports.data.map((d: AuditDocument) => d.request_id), [ids.export]);
    const refused = await (await api.get('/api/audit?status_code=401&status_code=403', { token: AUDITOR })).json();
    assert.deepEqual(new Set(refused.data.map((d: AuditDocument) => d.request_id)), new Set([ids.unauthorized, ids.forbidden]));
    const later = await (await api.get(`/api/audit?start_date=${new Date(Date.now() + 60_000).toISOString()}`, { token: AUDITOR })).json();
    assert.equal(later.total_records, 0);
  });

  it('GET /api/audit has the events endpoint’s 400 rules', async () => {
    const cases: [string, string][] = [
      ['start_date=2026-05-02T00:00:00Z&end_date=2026-05-01T00:00:00Z', 'end_date'],
      ['start_date=yesterday', 'start_date'],
      ['page_size=1000', 'page_size'],
      ['page=1000&page_size=100', 'page'],
      ['search=x', 'search'],
      ['status_code=700', 'status_code'],
    ];
    for (const [search, parameter] of cases) {
      const response = await api.get(`/api/audit?${search}`, { token: AUDITOR });
      assert.equal(response.status, 400, search);
      const body = await response.json();
      assert.equal(body.error, 'API_BAD_PARAMETER');
      assert.equal(body.parameter, parameter, search);
    }
  });
});

describe('Elasticsearch unreachable', () => {
  let relay: TcpRelay;
  let downDir: string;
  after(async () => {
    await relay?.close();
    if (downDir) await rm(downDir, { recursive: true, force: true });
  });

  it('requests are answered as fast, the file keeps them, the index gets each exactly once when it is back', async () => {
    relay = await startTcpRelay(es.connection.url);
    downDir = await mkdtemp(join(tmpdir(), 'api-audit-down-'));
    const downFile = join(downDir, 'audit.ndjson');
    const downAudit = new AuditFile(downFile, logger);
    const connection = { ...es.connection, url: relay.url };
    const down = await startApi({ connection, prefix: es.prefix, tokens: TOKENS, audit: downAudit, timeoutMs: 2_000 });
    const storage = createStorage({ ...connection, request_timeout_ms: 2_000 });
    const forwarder = new AuditForwarder({ storage, prefix: es.prefix, file: downFile, logger, timeoutMs: 2_000 });
    try {
      await relay.cut();
      forwarder.start();
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const started = performance.now();
        const response = await down.get(i % 2 === 0 ? '/api/openapi.json' : `/api/events/proxy?page=${i}`, { token: AUDITOR });
        await response.arrayBuffer();
        assert.equal(response.status, i % 2 === 0 ? 200 : 503);
        assert.ok(performance.now() - started < 1_500, `request ${i} took ${performance.now() - started} ms`);
        ids.push(requestId(response));
      }
      const byId = await recorded(downFile, ids);
      assert.equal(byId.get(ids[1]!)!.status, 503);
      assert.equal(await forwarder.pass(), false);

      await relay.restore();
      assert.equal(await forwarder.pass(), true);
      assert.deepEqual(await indexedCounts(ids), ids.map(() => 1));

      // The offset lost (a crash between the bulk and its record): everything is sent again, and
      // each request stays in the index once.
      await rm(`${downFile}.offset`);
      const again = new AuditForwarder({ storage, prefix: es.prefix, file: downFile, logger, timeoutMs: 2_000 });
      assert.equal(await again.pass(), true);
      assert.deepEqual(await indexedCounts(ids), ids.map(() => 1));
    } finally {
      await forwarder.stop();
      await down.close();
      await downAudit.close();
      await storage.close();
    }
  });
});
