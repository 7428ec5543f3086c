// Geolocation of a source address: from the MaxMind DB file the operator names (`geo.database_file`:
// GeoLite2-City, GeoIP2-City or DB-IP City, as Elasticsearch's geoip processor reads them), or else
// from geoip-lite's bundled copy of GeoLite2. geoip-lite is loaded by `preloadGeo` while the
// shipper waits for the cluster at start (or else on the first lookup), and never when a database
// file is given: its tables take some 100 MiB of memory, read synchronously.
// Private, loopback and other non-public addresses simply have no geo (neither source has them).
// Lookups are memoised: traffic comes from far fewer addresses than it has requests.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIPv6 } from 'node:net';
import { Reader, type CityResponse } from 'maxmind';
import { ProxyAccessLogError } from '../common/errors.ts';
import type { GeoFields } from '../common/proxy-event-document.ts';

type Lookup = (ip: string) => GeoFields | undefined;

/** What a geo database file is, for the start's log line. */
export interface GeoDatabase {
  file: string;
  type: string;
  built: string;
}

/** The file cannot be read or is no MaxMind DB with countries. */
export class GeoDatabaseError extends ProxyAccessLogError {
  readonly code = 'SHIPPER_GEO_DATABASE_INVALID';
}

const displayNames = new Intl.DisplayNames(['en'], { type: 'region' });
const countryNames = new Map<string, string | undefined>();
/** Addresses remembered (some 10 MiB at most); the memo starts over when full: bounded and simple. */
const MEMO_SIZE = 50_000;
const memo = new Map<string, GeoFields | undefined>();
let source: Lookup | undefined;

function countryName(code: string): string | undefined {
  if (!countryNames.has(code)) {
    const name = displayNames.of(code);
    countryNames.set(code, name && name !== code ? name : undefined);
  }
  return countryNames.get(code);
}

function fields(country: string, region: string | undefined, city: string | undefined, lat: number | undefined, lon: number | undefined): GeoFields {
  const geo: GeoFields = { country_iso_code: country };
  const name = countryName(country);
  if (name) geo.country_name = name;
  // ECS region_iso_code is the ISO 3166-2 code: country and subdivision, e.g. "GB-ENG".
  if (region) geo.region_iso_code = `${country}-${region}`;
  if (city) geo.city_name = city;
  if (Number.isFinite(lat) && Number.isFinite(lon)) geo.location = { lat: lat!, lon: lon! };
  return geo;
}

function bundled(): Lookup {
  const geoip = createRequire(import.meta.url)('geoip-lite') as typeof import('geoip-lite');
  return (ip) => {
    const found = geoip.lookup(ip);
    if (!found?.country) return undefined;
    return fields(found.country, found.region, found.city, found.ll[0], found.ll[1]);
  };
}

/**
 * Reads a MaxMind DB file (the whole file, some 30-70 MiB for a city database) and uses it for
 * every lookup from now on. A restart picks up a replaced file.
 */
export function useGeoDatabase(file: string): GeoDatabase {
  let reader: Reader<CityResponse>;
  try {
    reader = new Reader<CityResponse>(readFileSync(file));
  } catch (error) {
    throw new GeoDatabaseError(`${file} cannot be read as a MaxMind DB file: ${(error as Error).message}`, { cause: error });
  }
  const { databaseType, ipVersion, buildEpoch } = reader.metadata;
  if (!/city|country/i.test(databaseType)) throw new GeoDatabaseError(`${file} is a ${databaseType} database; a City or Country database is needed`);
  source = (ip) => {
    // An IPv6 address walked down an IPv4-only tree would land on an unrelated IPv4 network.
    if (ipVersion === 4 && isIPv6(ip)) return undefined;
    const found = reader.get(ip);
    const country = found?.country?.iso_code;
    if (!country) return undefined;
    return fields(country, found.subdivisions?.[0]?.iso_code, found.city?.names.en, found.location?.latitude, found.location?.longitude);
  };
  memo.clear();
  return { file, type: databaseType, built: buildEpoch.toISOString() };
}

/**
 * Loads the geo data now if no lookup has yet: reading geoip-lite's tables blocks for a moment
 * (hundreds of milliseconds on a busy machine), better spent while the cluster answers than at
 * the first line.
 */
export function preloadGeo(): void {
  source ??= bundled();
}

/** The geo fields of an address. The object is shared between calls: do not modify it. */
export function geoOf(ip: string): GeoFields | undefined {
  if (memo.has(ip)) return memo.get(ip);
  if (memo.size >= MEMO_SIZE) memo.clear();
  source ??= bundled();
  const geo = source(ip);
  memo.set(ip, geo);
  return geo;
}
