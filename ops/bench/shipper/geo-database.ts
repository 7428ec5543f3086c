// The MaxMind DB file the shipper's second geo mode reads (`geo.database_file`): a City database
// locating every /8 the log writer draws client addresses from, so each lookup finds a city as it
// would in GeoLite2-City, and as large as a real GeoLite2-City file, because the shipper holds the
// whole file in memory and that is what its peak RSS must show. The bulk is an entry no address
// reaches; the licensed database itself cannot be shipped with the project.

import { writeFile } from 'node:fs/promises';
import { writeMmdb, type MmdbValue } from '../../../test/helpers/mmdb.ts';
import { FIRST_OCTETS } from './log-writer.ts';

/** GeoLite2-City's size in 2026, give or take a few MiB between its weekly builds. */
export const CITY_DATABASE_BYTES = 60 * 2 ** 20;
/** The longest string a MaxMind DB control byte can announce is 16,843,036 bytes. */
const FILLER_STRING_BYTES = 16 * 2 ** 20;

export async function writeGeoDatabase(file: string): Promise<void> {
  const filler: MmdbValue[] = [];
  for (let left = CITY_DATABASE_BYTES; left > 0; left -= FILLER_STRING_BYTES) filler.push('x'.repeat(Math.min(left, FILLER_STRING_BYTES)));
  const networks: { cidr: string; data: MmdbValue }[] = FIRST_OCTETS.map((octet, index) => ({
    cidr: `${octet}.0.0.0/8`,
    data: {
      country: { iso_code: 'DE' },
      subdivisions: [{ iso_code: 'HE' }],
      city: { names: { en: `Bench City ${index}` } },
      location: { latitude: 50.11, longitude: 8.68 },
    },
  }));
  // 240.0.0.0/4 is reserved: no client address is there.
  networks.push({ cidr: '240.0.0.0/8', data: { filler } });
  await writeFile(file, writeMmdb('GeoLite2-City', networks));
}
