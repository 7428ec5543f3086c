// Property-based: whatever the parameters (known or not, valid or not, any characters), the API
// answers 200 or a 400 that names a parameter, never a 500 or a hang.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { EXPORT_PARAMS, LIST_PARAMS, SORT_KEYS, STATS_PARAMS } from '../../api/query/params.ts';
import { listResponseSchema } from '../../api/routes/list.ts';
import { statsResponseSchema } from '../../api/routes/stats.ts';
import { DAY_MS, loadDataset } from '../helpers/dataset.ts';
import { testElasticsearch, type TestElasticsearch } from '../helpers/elasticsearch.ts';
import { startApi, type ApiHarness } from './harness.ts';

let es: TestElasticsearch;
let api: ApiHarness;
const END = Date.parse('2026-05-01T00:00:00.000Z');

before(async () => {
  es = testElasticsearch('api-props');
  await loadDataset(es.connection, es.prefix, { count: 400, seed: 5, end: END, spanMs: 3 * DAY_MS });
  api = await startApi({ connection: es.connection, prefix: es.prefix });
});
after(async () => {
  await api?.close();
  await es?.cleanup();
});

const SPECIALS = ['*', '?', '\\', '"', "'", '(', ')', ':', '/', '[', ']', '{', '}', '~', '^', '!', '&&', '||', 'AND', 'OR', 'NOT', '%', '+', '-', '<', '>', '=', '\u0000', '\uffff', '😀', 'é'];

const anyText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.array(fc.constantFrom(...SPECIALS), { maxLength: 8 }).map((parts) => parts.join('')),
  fc.string({ minLength: 250, maxLength: 300 }),
);

const dateText = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString().replace('Z', '+05:30')),
  fc.constantFrom('2026-02-29T00:00:00Z', '2026-04-30T24:00:00Z', '2026-04-30T23:59:60Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999999999Z', '2026-04-30T12:00:00-23:59'),
);

const ipText = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.tuple(fc.ipV4(), fc.integer({ min: -1, max: 40 })).map(([ip, bits]) => `${ip}/${bits}`),
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 130 })).map(([ip, bits]) => `${ip}/${bits}`),
);

const numberText = fc.oneof(fc.integer({ min: -10, max: 1_000_100 }).map(String), fc.constantFrom('1e3', '0x10', ' 5', '5 ', '-0', '99999999999999999999', 'NaN'));

const cursorText = fc
  .tuple(
    fc.constantFrom(...SORT_KEYS, 'nope'),
    fc.constantFrom('asc', 'desc'),
    fc.oneof(fc.integer(), fc.double(), fc.string()),
    fc.array(fc.oneof(fc.string(), fc.integer(), fc.maxSafeInteger(), fc.double(), fc.constant(null), fc.boolean(), fc.ipV4(), fc.ipV6()), { maxLength: 4 }),
  )
  .map((value) => Buffer.from(JSON.stringify(value)).toString('base64url'));

const VALUE_FOR: Record<string, fc.Arbitrary<string>> = {
  page: numberText,
  page_size: numberText,
  status_code: numberText,
  start_date: dateText,
  end_date: dateText,
  source_ip: ipText,
  search: fc.oneof(anyText, ipText),
  cursor: fc.oneof(cursorText, anyText),
  interval: fc.oneof(fc.tuple(fc.integer({ min: 0, max: 99999 }), fc.constantFrom('s', 'm', 'h', 'd', 'w', '')).map(([n, u]) => `${n}${u}`), anyText),
  sort_by: fc.oneof(fc.constantFrom(...SORT_KEYS), anyText),
  sort_order: fc.constantFrom('asc', 'desc', 'ASC', ''),
  status: fc.constantFrom('success', 'failed', 'Success', ''),
  category: fc.constantFrom('allowed', 'denied', 'error', 'client_error', 'bad'),
  auth_method: fc.constantFrom('sso', 'password', 'pin', 'none', 'ldap'),
  country_code: fc.oneof(fc.string({ minLength: 2, maxLength: 2 }), fc.constantFrom('de', 'US', 'XX')),
  format: fc.constantFrom('ndjson', 'csv', 'xml'),
};

function paramsFor(table: Record<string, unknown>) {
  const known = Object.keys(table);
  const entry = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...known).chain((name) => fc.tuple(fc.constant(name), VALUE_FOR[name] ?? anyText)) },
    { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 12 }), anyText) },
  );
  return fc.array(entry, { maxLength: 6 });
}

async function check(path: string, entries: [string, string][]) {
  const search = new URLSearchParams(entries).toString();
  const response = await api.get(`${path}${search ? `?${search}` : ''}`);
  const text = await response.text();
  assert.ok([200, 400].includes(response.status), `${response.status} for ${path}?${search}: ${text.slice(0, 300)}`);
  if (response.status === 400) {
    const body = JSON.parse(text);
    assert.equal(body.error, 'API_BAD_PARAMETER');
    assert.equal(typeof body.parameter, 'string');
  }
  return { status: response.status, text };
}

describe('random parameters', () => {
  it('GET /api/events/proxy answers only 200 (a valid page) or 400', async () => {
    let ok = 0;
    await fc.assert(
      fc.asyncProperty(paramsFor(LIST_PARAMS), async (entries) => {
        const { status, text } = await check('/api/events/proxy', entries);
        if (status === 200) ok++, listResponseSchema.parse(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
    // The generators must reach Elasticsearch often, not only the validation.
    assert.ok(ok >= 60, `${ok} of 300 runs answered 200`);
  });

  it('GET /api/events/proxy/stats answers only 200 or 400', async () => {
    await fc.assert(
      fc.asyncProperty(paramsFor(STATS_PARAMS), async (entries) => {
        const { status, text } = await check('/api/events/proxy/stats', entries);
        if (status === 200) statsResponseSchema.parse(JSON.parse(text));
      }),
      { numRuns: 150 },
    );
  });

  it('GET /api/events/proxy/export answers only 200 or 400', async () => {
    await fc.assert(fc.asyncProperty(paramsFor(EXPORT_PARAMS), async (entries) => void (await check('/api/events/proxy/export', entries))), { numRuns: 60 });
  });

  it('raw, malformed query strings answer only 200 or 400', async () => {
    const raw = fc.array(fc.constantFrom('%', '%2', '%zz', '%E0%A4%A', '&', '=', '==', '+', '[]', 'page', 'host', 'search', 'a', '1', '.', '%00', '%FF', ';', '#'), { maxLength: 12 });
    await fc.assert(
      fc.asyncProperty(raw, async (parts) => {
        const response = await api.get(`/api/events/proxy?${parts.join('')}`);
        await response.arrayBuffer();
        assert.ok([200, 400].includes(response.status), `${response.status} for ?${parts.join('')}`);
      }),
      { numRuns: 150 },
    );
  });
});
