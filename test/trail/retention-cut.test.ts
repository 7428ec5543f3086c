// Retention is a clean cut, not tampering: a trail over three past days (written by the proxy's
// TrailChain on a clock of its own, with a checkpoint every hour and one request that spans
// midnight) goes through the real shipper; verify-trail passes on it whole, passes again after
// retention deleted the first day (events and checkpoints), noting the cut, and still names a record
// deleted inside the days kept.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { applyRetention } from '../../common/index-lifecycle.ts';
import { dailyIndexName, FIELD, indexPattern, trailIndexPrefix } from '../../common/proxy-event-document.ts';
import { keyIdOf } from '../../common/trail.ts';
import type { RequestRecord } from '../../proxy/access-log.ts';
import { CHECKPOINT, TrailChain } from '../../proxy/trail-chain.ts';
import { testElasticsearch } from '../helpers/elasticsearch.ts';
import { removeDir, tempDir } from '../proxy/helpers.ts';
import { startShipper, waitForCount } from '../shipper/shipper-process.ts';
import { verifyTrail } from './verify-trail.ts';

const PROXY_ID = 'edge-cut';
const MINUTE_MS = 60_000;
const START = Date.parse('2026-01-01T22:00:00.000Z');
const END = Date.parse('2026-01-03T03:00:00.000Z');
/** The request that spans midnight: it arrives on the first day and is written after the second day's first checkpoint. */
const LONG_ARRIVAL = Date.parse('2026-01-01T23:50:00.000Z');
const LONG_WRITTEN = Date.parse('2026-01-02T00:30:00.000Z');

function record(arrival: number, id: string): RequestRecord {
  return {
    time: new Date(arrival).toISOString(),
    id,
    service: 'app',
    method: 'GET',
    host: 'app.test',
    path: `/${id}`,
    status: 200,
    duration_ms: 1,
    source_ip: '192.0.2.1',
    auth_method: 'none',
    bytes_in: 0,
    bytes_out: 2,
    protocol: 'http',
  };
}

describe('retention is a clean cut of the trail', () => {
  const es = testElasticsearch('trail-cut');
  let dir: string;
  let publicKeyFile: string;
  let records: number;

  before(async () => {
    dir = await tempDir('trail-cut');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    publicKeyFile = join(dir, 'trail.pub');
    await writeFile(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }));
    let now = START;
    const chain = new TrailChain(PROXY_ID, undefined, { key: privateKey, id: keyIdOf(privateKey) }, () => now);
    // The lines the proxy would have written: a request every 10 minutes, a checkpoint every hour.
    let text = '';
    let checkpoints = 0;
    records = 0;
    for (; now <= END; now += 10 * MINUTE_MS) {
      if (now === LONG_WRITTEN) {
        text += chain.seal(JSON.stringify(record(LONG_ARRIVAL, 'long')).slice(1));
        records++;
      }
      text += chain.seal(JSON.stringify(record(now, `r${now}`)).slice(1));
      records++;
      if (now % (60 * MINUTE_MS) === 0) {
        text += chain.seal(CHECKPOINT);
        checkpoints++;
      }
    }
    await mkdir(join(dir, 'logs'));
    await writeFile(join(dir, 'logs', 'access.1.log'), text);
    const shipper = startShipper({ logs: join(dir, 'logs'), state: join(dir, 'state'), connection: es.connection, prefix: es.prefix });
    try {
      await waitForCount(es.storage, es.prefix, records);
      await waitForCount(es.storage, trailIndexPrefix(es.prefix), checkpoints);
    } finally {
      assert.equal(await shipper.stop(), 0);
    }
  });
  after(async () => {
    await es.cleanup();
    await removeDir(dir);
  });

  const verify = () => verifyTrail(['--public-key', publicKeyFile, '--index-prefix', es.prefix], es.connection);

  it('verifies the whole trail, which starts a chain: no cut', async () => {
    const whole = await verify();
    assert.equal(whole.code, 0, whole.stdout + whole.stderr);
    assert.doesNotMatch(whole.stdout, /clean cut/);
  });

  it('after retention deleted the first day, verifies from the cut, the request that spanned midnight not missing', async () => {
    const retention = await applyRetention(es.storage, { prefix: es.prefix, days: 1, now: new Date('2026-01-03T12:00:00.000Z') });
    const firstDay = new Date('2026-01-01T00:00:00.000Z');
    assert.deepEqual(retention.expired.toSorted(), [dailyIndexName(es.prefix, firstDay), dailyIndexName(trailIndexPrefix(es.prefix), firstDay)].toSorted());
    const cut = await verify();
    assert.equal(cut.code, 0, cut.stdout + cut.stderr);
    assert.match(cut.stdout, new RegExp(`note: proxy ${PROXY_ID}: a clean cut: the days before 2026-01-02 are deleted; checked from the first checkpoint after 2026-01-02T01:00:00\\.000Z`));
    assert.match(cut.stdout, /the trail verifies/);
  });

  it('still names a record deleted inside the days kept', async () => {
    const found = await es.client.search<{ event: { sequence: number } }>({
      index: indexPattern(es.prefix),
      query: { term: { [FIELD.eventId]: `r${Date.parse('2026-01-02T12:00:00.000Z')}` } },
    });
    const hit = found.hits.hits[0]!;
    await es.client.delete({ index: hit._index, id: hit._id!, refresh: true });
    const tampered = await verify();
    assert.equal(tampered.code, 1, tampered.stdout);
    assert.match(tampered.stdout, new RegExp(`MISSING: proxy ${PROXY_ID} sequence ${hit._source!.event.sequence}: `));
  });
});

