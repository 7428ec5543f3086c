// Lines that can never be indexed go to the dead-letter file with where they came from and why,
// while the good lines around them are indexed, with geo fields for public addresses only.

import assert from 'node:assert/strict';
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dailyIndexName, FIELD, indexPattern, type ProxyEventDocument } from '../../common/proxy-event-document.ts';
import { DEAD_LETTER_FILE, type DeadLetter } from '../../shipper/dead-letter.ts';
import { geoOf } from '../../shipper/geo.ts';
import { clusterRequest } from '../helpers/elasticsearch.ts';
import { accessLogName, appendRecords, recordLine, testRecord } from '../helpers/records.ts';
import { shipperWorkspace } from '../helpers/shipper-workspace.ts';
import { waitFor } from '../helpers/wait.ts';
import { scrapeMetrics, startShipper, waitForCount } from './shipper-process.ts';

const REJECTED_DAY = new Date('2020-01-01T10:00:00.000Z');

describe('dead letters and enrichment', () => {
  it('dead-letters each bad line and indexes its neighbours', async (t) => {
    const workspace = await shipperWorkspace('deadletter');
    t.after(() => workspace.remove());
    const { es, logs, state } = workspace;
    // An index whose url.path is a number: Elasticsearch itself rejects a document for that day.
    const created = await clusterRequest(es.connection, 'PUT', `/${dailyIndexName(es.prefix, REJECTED_DAY)}`, {
      mappings: { properties: { url: { properties: { path: { type: 'long' } } } } },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const good = (i: number) => Buffer.from(recordLine(testRecord(i)));
    const wrongType = JSON.stringify({ ...testRecord(100), status: '200' }) + '\n';
    const invalidUtf8 = Buffer.concat([Buffer.from(recordLine(testRecord(101)).slice(0, 60)), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]);
    const bad: Array<{ bytes: Buffer; error: RegExp }> = [
      { bytes: Buffer.from('GET /index.html 200 garbage\n'), error: /^not JSON/ },
      { bytes: Buffer.from(recordLine(testRecord(102)).slice(0, 80) + '\n'), error: /^not JSON/ },
      { bytes: Buffer.from('{"x":"' + 'a'.repeat(2 * 1024 * 1024) + '"}\n'), error: /too long/ },
      { bytes: invalidUtf8, error: /invalid UTF-8/ },
      { bytes: Buffer.from(wrongType), error: /status/ },
      { bytes: Buffer.from(recordLine(testRecord(103, { time: REJECTED_DAY }))), error: /rejected by Elasticsearch: .*mapper_parsing_exception|document_parsing_exception/ },
    ];
    const parts: Buffer[] = [good(0)];
    const offsets: number[] = [];
    let offset = good(0).length;
    bad.forEach((line, n) => {
      offsets.push(offset);
      parts.push(line.bytes, good(n + 1));
      offset += line.bytes.length + good(n + 1).length;
    });
    await appendFile(join(logs, accessLogName(1)), Buffer.concat(parts));

    const shipper = startShipper(workspace.shipper(['--metrics-port', '0']));
    try {
      await waitForCount(es.storage, es.prefix, bad.length + 1);
      const deadLetterPath = join(state, DEAD_LETTER_FILE);
      const entries = await waitFor(`${bad.length} dead letters`, async () => {
        const lines = (await readFile(deadLetterPath, 'utf8')).split('\n').filter(Boolean);
        return lines.length >= bad.length && lines.map((line) => JSON.parse(line) as DeadLetter);
      });
      assert.equal(entries.length, bad.length);
      entries.sort((a, b) => a.offset - b.offset);
      entries.forEach((entry, n) => {
        assert.equal(entry.file, accessLogName(1));
        assert.equal(entry.offset, offsets[n], `offset of bad line ${n}`);
        assert.match(entry.error, bad[n]!.error);
      });
      assert.equal(Buffer.from(entries[3]!.line_base64!, 'base64').toString('hex'), invalidUtf8.subarray(0, -1).toString('hex'), 'exact bytes of the invalid UTF-8 line');
      assert.ok(entries[2]!.line.length <= 4096, 'only the head of an over-long line is kept');

      const metrics = await scrapeMetrics(shipper);
      assert.equal(metrics.shipper_indexed_total, 7);
      assert.equal(metrics.shipper_dead_lettered_total, 6);
      assert.equal(metrics.shipper_lag_bytes, 0);
    } finally {
      assert.equal(await shipper.stop(), 0);
    }
    const response = await es.storage.search<ProxyEventDocument>({ index: indexPattern(es.prefix), size: 20 });
    const ids = response.hits.hits.map((hit) => hit._source!.event.id).sort();
    assert.deepEqual(ids, ['req-0', 'req-1', 'req-2', 'req-3', 'req-4', 'req-5', 'req-6']);
  });

  it('adds geo fields for public addresses and none for private or loopback ones', async (t) => {
    const workspace = await shipperWorkspace('geo');
    t.after(() => workspace.remove());
    const { es, logs } = workspace;
    appendRecords(logs, 1, 0, 7);
    const shipper = startShipper(workspace.shipper());
    try {
      await waitForCount(es.storage, es.prefix, 7);
    } finally {
      assert.equal(await shipper.stop(), 0);
    }
    const geo = async (eventId: string) => {
      const response = await es.storage.search<ProxyEventDocument>({ index: indexPattern(es.prefix), query: { term: { [FIELD.eventId]: eventId } } });
      return response.hits.hits[0]!._source!.source;
    };
    // testRecord cycles through 81.2.69.142, 8.8.8.8, 10.1.2.3, 192.168.0.7, 2001:4860:4860::8888, 127.0.0.1.
    const british = await geo('req-0');
    assert.equal(british.ip, '81.2.69.142');
    assert.equal(british.geo?.country_iso_code, 'GB');
    assert.equal(british.geo?.country_name, 'United Kingdom');
    assert.equal(british.geo?.region_iso_code, 'GB-ENG');
    // The city and its location are whatever the installed geoip-lite data says (they move between releases).
    assert.ok(british.geo?.city_name, 'a city');
    assert.deepEqual(british.geo, geoOf('81.2.69.142'));
    assert.equal((await geo('req-1')).geo?.country_iso_code, 'US');
    assert.equal((await geo('req-4')).geo?.country_iso_code, 'US');
    for (const privateOne of ['req-2', 'req-3', 'req-5']) assert.equal((await geo(privateOne)).geo, undefined, privateOne);
    const { lat, lon } = british.geo!.location!;
    const located = await es.storage.count(indexPattern(es.prefix), { geo_distance: { distance: '50km', [FIELD.location]: { lat, lon } } });
    assert.equal(located, 2, 'source.geo.location is a searchable geo_point (req-0 and req-6)');
  });
});
