// Where source addresses are located: geoip-lite's bundled data by default; the MaxMind DB file an
// operator names in geo.database_file instead (a real .mmdb file, written by the test, read by the
// real reader through the real shipper into Elasticsearch); a file that is no such database stops
// the shipper at start, naming the key.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIELD, indexPattern, type ProxyEventDocument } from '../../common/proxy-event-document.ts';
import { geoOf } from '../../shipper/geo.ts';
import { writeMmdb } from '../helpers/mmdb.ts';
import { appendRecords } from '../helpers/records.ts';
import { shipperWorkspace, type ShipperWorkspace } from '../helpers/shipper-workspace.ts';
import { startShipper, waitForCount } from './shipper-process.ts';

const CITY = {
  country: { iso_code: 'GB', names: { en: 'United Kingdom' } },
  subdivisions: [{ iso_code: 'ENG', names: { en: 'England' } }],
  city: { names: { en: 'Testbury' } },
  location: { latitude: 51.5, longitude: -0.25 },
};
const ADDRESSES = {
  /** In the file, with a city. */
  city: '203.0.113.7',
  /** In the file, an IPv6 network with a country only. */
  countryOnly: '2001:db8::5',
  /** Public and known to geoip-lite, but not in the file: no geo, so geoip-lite was not asked. */
  notInFile: '8.8.8.8',
  private: '10.0.0.1',
};

describe('geo', () => {
  let workspace: ShipperWorkspace;
  before(async () => {
    workspace = await shipperWorkspace('geo');
  });
  after(() => workspace.remove());

  it('locates with geoip-lite when no database file is configured', () => {
    assert.equal(geoOf('8.8.8.8')?.country_iso_code, 'US');
    assert.equal(geoOf('8.8.8.8')?.country_name, 'United States');
    assert.equal(geoOf('10.1.2.3'), undefined);
  });

  it('locates with the MaxMind DB file of geo.database_file, and only with it', async (t) => {
    await writeFile(join(workspace.dir, 'city.mmdb'), writeMmdb('GeoLite2-City', [
      { cidr: '203.0.113.0/24', data: CITY },
      { cidr: '2001:db8::/32', data: { country: { iso_code: 'DE' } } },
    ]));
    const config = join(workspace.dir, 'shipper.json');
    await writeFile(config, JSON.stringify({ geo: { database_file: 'city.mmdb' } }));
    Object.values(ADDRESSES).forEach((ip, i) => appendRecords(workspace.logs, 1, i, i + 1, { overrides: { source_ip: ip } }));
    const shipper = startShipper(workspace.shipper(['--config', config]));
    t.after(() => shipper.kill());
    await waitForCount(workspace.es.storage, workspace.es.prefix, 4);
    assert.match(shipper.stderr(), /"msg":"geo database loaded"/);
    assert.match(shipper.stderr(), /"type":"GeoLite2-City"/);

    const response = await workspace.es.client.search<ProxyEventDocument>({ index: indexPattern(workspace.es.prefix), size: 10 });
    const geoBy = new Map(response.hits.hits.map((hit) => [hit._source!.source.ip, hit._source!.source.geo]));
    assert.deepEqual(geoBy.get(ADDRESSES.city), {
      country_iso_code: 'GB',
      country_name: 'United Kingdom',
      region_iso_code: 'GB-ENG',
      city_name: 'Testbury',
      location: { lat: 51.5, lon: -0.25 },
    });
    assert.deepEqual(geoBy.get(ADDRESSES.countryOnly), { country_iso_code: 'DE', country_name: 'Germany' });
    assert.equal(geoBy.get(ADDRESSES.notInFile), undefined);
    assert.equal(geoBy.get(ADDRESSES.private), undefined);
    const byCountry = await workspace.es.client.count({ index: indexPattern(workspace.es.prefix), query: { term: { [FIELD.countryCode]: 'GB' } } });
    assert.equal(byCountry.count, 1, 'the geo fields are indexed as the template maps them');
    assert.equal(await shipper.stop(), 0);
  });

  it('exits 1 naming geo.database_file when the file is missing or no City or Country database', async () => {
    const cases = [
      { file: 'absent.mmdb', problem: /cannot be read as a MaxMind DB file/ },
      { file: 'text.mmdb', content: Buffer.from('not a database\n'), problem: /cannot be read as a MaxMind DB file/ },
      { file: 'asn.mmdb', content: writeMmdb('GeoLite2-ASN', [{ cidr: '203.0.113.0/24', data: { autonomous_system_number: 64_500 } }]), problem: /is a GeoLite2-ASN database; a City or Country database is needed/ },
    ];
    for (const { file, content, problem } of cases) {
      if (content) await writeFile(join(workspace.dir, file), content);
      const config = join(workspace.dir, `bad-${file}.json`);
      await writeFile(config, JSON.stringify({ geo: { database_file: file } }));
      const shipper = startShipper(workspace.shipper(['--config', config]));
      assert.equal(await shipper.exited, 1, file);
      assert.match(shipper.stderr(), /^shipper: geo\.database_file: /m, file);
      assert.match(shipper.stderr(), problem, file);
    }
  });
});
