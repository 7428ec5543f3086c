// Insights end to end: the proxy, the shipper and the API as their own processes, a week of
// ordinary history bulk-indexed beneath them, then two phases of live traffic through the proxy of
// the same size: an ordinary one, where GET /api/events/proxy/insights finds nothing, and one with
// planted attacks (a brute force, a spray, a user from a new country, a 5xx burst), each of which
// it finds, with filters that list exactly the events behind each finding.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import type { Finding } from '../../api/insights/finding.ts';
import { generateToken } from '../../api/tokens.ts';
import { LOGIN_PATH } from '../../proxy/auth/endpoints.ts';
import { hashSecret } from '../../proxy/secret-hash.ts';
import { BrowserLikeClient } from '../../ops/stack/browser-like-client.ts';
import type { Supervisor } from '../../ops/stack/supervisor.ts';
import { toDocument } from '../../shipper/document.ts';
import { DAY_MS, indexDocuments, loadingStorage } from '../helpers/dataset.ts';
import { testElasticsearch, type TestElasticsearch } from '../helpers/elasticsearch.ts';
import { startPipeline } from '../helpers/pipeline-stack.ts';
import { waitFor } from '../helpers/wait.ts';
import { HOME_IP, usualTraffic, type UsualService, type User } from '../helpers/usual-traffic.ts';

const PASSWORD = 'correct horse battery staple';
const BRUTE_FORCER = '133.242.0.1'; // JP
const SPRAYER = '200.160.2.3'; // BR
const TRAVEL_IP = '8.8.8.8'; // US
/** The smallest detector window (brute force, spray): a phase must not straddle one of its edges. */
const WINDOW_MS = 10 * 60_000;
const PHASE_ROOM_MS = 90_000;

/** Password services, each standing for one user (as the proxy logs user_id after a login). */
const LOGIN_SERVICES: { id: string; user: User }[] = [
  { id: 'wiki', user: 'alice' },
  { id: 'git', user: 'bob' },
  { id: 'door', user: 'carol' },
  { id: 'ci', user: 'bob' },
  { id: 'files', user: 'alice' },
];
const HISTORY_SERVICES: UsualService[] = [
  ...LOGIN_SERVICES.map(({ id, user }): UsualService => ({ id, host: `${id}.localhost`, auth: 'password', users: [user] })),
  { id: 'open', host: 'open.localhost', auth: 'none', users: [] },
  { id: 'shop', host: 'shop.localhost', auth: 'none', users: [] },
];

describe('insights: planted attacks through proxy → shipper → Elasticsearch → API', () => {
  let es: TestElasticsearch;
  let dir: string;
  let supervisor: Supervisor;
  let agent: Agent;
  let proxyUrl: string;
  let apiUrl: string;
  let proxied = 0;
  const token = generateToken();

  before(async () => {
    es = testElasticsearch('e2e-insights');
    dir = await mkdtemp(join(tmpdir(), 'proxy-access-log-insights-'));
    agent = new Agent();
    // A week of ordinary use, ending a minute before now: the live phases follow it.
    const now = Date.now();
    const history = usualTraffic({ services: HISTORY_SERVICES, start: now - 8 * DAY_MS, end: now - 60_000, perHour: 30, seed: 7 });
    const client = loadingStorage(es.connection);
    try {
      await indexDocuments(client, es.prefix, [...history].map(toDocument));
    } finally {
      await client.close();
    }
    ({ proxyUrl, apiUrl, supervisor } = await startPipeline({
      es,
      dir,
      token,
      proxyId: 'insights-proxy',
      services: async ({ upstream, deadPort }) => {
        const hash = await hashSecret(PASSWORD);
        return [
          ...LOGIN_SERVICES.map(({ id, user }) => ({ id, hosts: [`${id}.localhost`], upstream, auth: { method: 'password', hash, user_id: user } })),
          { id: 'open', hosts: ['open.localhost'], upstream, auth: { method: 'none' } },
          { id: 'shop', hosts: ['shop.localhost'], upstream: `http://127.0.0.1:${deadPort}`, auth: { method: 'none' } },
        ];
      },
    }));
  });

  after(async () => {
    await supervisor?.stopAll();
    await agent?.close();
    await es?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const at = (service: string, path: string) => `http://${service}.localhost:${new URL(proxyUrl).port}${path}`;
  const visitor = (ip: string) => new BrowserLikeClient({ ip, userAgent: 'insights-e2e' }, proxyUrl, agent);

  async function send(client: BrowserLikeClient, url: string, form?: Record<string, string>): Promise<number> {
    proxied++;
    return (await client.send(url, form ? { form } : {})).status;
  }

  async function api<T>(path: string, params: Record<string, string | string[]>): Promise<T> {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) for (const one of [value].flat()) search.append(name, one);
    const response = await fetch(`${apiUrl}${path}?${search}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as T;
  }

  /** Starts a phase where it fits inside one detector window, and returns its start. */
  async function phaseStart(): Promise<number> {
    const untilEdge = WINDOW_MS - (Date.now() % WINDOW_MS);
    if (untilEdge < PHASE_ROOM_MS) await sleep(untilEdge + 1_000);
    return Date.now();
  }

  /** Ends a phase once every request sent through the proxy is searchable; returns the range. */
  async function phaseEnd(start: number): Promise<{ start_date: string; end_date: string }> {
    const end = Date.now();
    const range = { start_date: new Date(start).toISOString(), end_date: new Date(end).toISOString() };
    await waitFor(`${proxied} requests searchable`, async () => {
      const { total_records } = await api<{ total_records: number }>('/api/events/proxy', { ...range, page_size: '1' });
      return total_records === proxied;
    }, { timeoutMs: 30_000, intervalMs: 250 });
    return range;
  }

  async function signIn(service: string, user: User, ip: string): Promise<BrowserLikeClient> {
    const client = visitor(ip);
    assert.equal(await send(client, at(service, LOGIN_PATH), { password: PASSWORD, return_to: '/' }), 303);
    assert.equal(await send(client, at(service, '/')), 200, `${user} signed in to ${service}`);
    return client;
  }

  let ordinarySize = 0;

  it('finds nothing in ordinary traffic', async () => {
    proxied = 0;
    const start = await phaseStart();
    for (const { id, user } of LOGIN_SERVICES.slice(0, 3)) {
      const client = await signIn(id, user, HOME_IP[user]);
      for (let i = 0; i < 12; i++) assert.equal(await send(client, at(id, `/page/${i}`)), 200);
    }
    assert.equal(await send(visitor(HOME_IP.alice), at('wiki', LOGIN_PATH), { password: 'mistyped', return_to: '/' }), 401);
    for (let i = 0; i < 15; i++) assert.equal(await send(visitor(HOME_IP.carol), at('open', `/news/${i}`)), 200);
    const range = await phaseEnd(start);
    ordinarySize = proxied;
    const { data, total_count } = await api<{ data: Finding[]; total_count: number }>('/api/events/proxy/insights', range);
    assert.deepEqual(data.map((f) => f.title), []);
    assert.equal(total_count, 0);
  });

  it('finds a brute force, a spray, a user from a new country and a 5xx burst, each with exact filters', async () => {
    proxied = 0;
    const start = await phaseStart();
    const bruteForcer = visitor(BRUTE_FORCER);
    for (let i = 0; i < 25; i++) assert.ok([401, 429].includes(await send(bruteForcer, at('wiki', LOGIN_PATH), { password: `guess-${i}`, return_to: '/' })));
    const sprayer = visitor(SPRAYER);
    for (const { id } of LOGIN_SERVICES) assert.equal(await send(sprayer, at(id, LOGIN_PATH), { password: 'Winter2026!', return_to: '/' }), 401);
    const traveller = await signIn('wiki', 'alice', TRAVEL_IP);
    assert.equal(await send(traveller, at('wiki', '/from-abroad')), 200);
    const shopper = visitor(HOME_IP.bob);
    for (let i = 0; i < 25; i++) assert.equal(await send(shopper, at('shop', `/cart/${i}`)), 502);
    assert.ok(Math.abs(proxied - ordinarySize) <= 5, `phases of the same size: ${proxied} and ${ordinarySize}`);
    const range = await phaseEnd(start);

    const { data } = await api<{ data: Finding[] }>('/api/events/proxy/insights', range);
    const titles = JSON.stringify(data.map((f) => f.title));
    const one = (detector: string, match: (f: Finding) => boolean) => {
      const hits = data.filter((f) => f.detector === detector && match(f));
      assert.equal(hits.length, 1, `one ${detector} finding in ${titles}`);
      return hits[0]!;
    };
    assert.equal(one('brute_force', (f) => f.evidence.source_ip === BRUTE_FORCER).count, 25);
    assert.equal(one('credential_spray', (f) => f.evidence.source_ip === SPRAYER).evidence.distinct_services, LOGIN_SERVICES.length);
    const travel = one('new_country', (f) => f.evidence.user_id === 'alice');
    assert.equal(travel.evidence.country_code, 'US');
    assert.deepEqual(travel.evidence.usual_countries, ['DE']);
    assert.equal(one('error_spike', (f) => f.evidence.service_id === 'shop').count, 25);
    for (const finding of data) {
      const { total_records } = await api<{ total_records: number }>('/api/events/proxy', { ...finding.filters, page_size: '1' });
      assert.equal(total_records, finding.count, `${finding.detector}: ${finding.title}`);
    }
    assert.deepEqual(new Set(data.map((f) => f.detector)), new Set(['brute_force', 'credential_spray', 'new_country', 'error_spike', 'denial_spike']), titles);
  });
});
