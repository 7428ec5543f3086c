// Geolocation of a source address from geoip-lite's bundled data set. Private, loopback and
// other non-public addresses simply have no geo (geoip-lite finds nothing for them).
// Lookups are memoised: traffic comes from far fewer addresses than it has requests.

import geoip from 'geoip-lite';
import type { GeoFields } from '../common/proxy-event-document.ts';

const displayNames = new Intl.DisplayNames(['en'], { type: 'region' });
const countryNames = new Map<string, string | undefined>();
/** Addresses remembered (some 10 MiB at most); the memo starts over when full: bounded and simple. */
const MEMO_SIZE = 50_000;

function countryName(code: string): string | undefined {
  if (!countryNames.has(code)) {
    const name = displayNames.of(code);
    countryNames.set(code, name && name !== code ? name : undefined);
  }
  return countryNames.get(code);
}
const memo = new Map<string, GeoFields | undefined>();

function lookup(ip: string): GeoFields | undefined {
  const found = geoip.lookup(ip);
  if (!found || !found.country) return undefined;
  const geo: GeoFields = { country_iso_code: found.country };
  const name = countryName(found.country);
  if (name) geo.country_name = name;
  // ECS region_iso_code is the ISO 3166-2 code: country and subdivision, e.g. "GB-ENG".
  if (found.region) geo.region_iso_code = `${found.country}-${found.region}`;
  if (found.city) geo.city_name = found.city;
  const [lat, lon] = found.ll;
  if (Number.isFinite(lat) && Number.isFinite(lon)) geo.location = { lat, lon };
  return geo;
}

/** The geo fields of an address. The object is shared between calls: do not modify it. */
export function geoOf(ip: string): GeoFields | undefined {
  if (memo.has(ip)) return memo.get(ip);
  if (memo.size >= MEMO_SIZE) memo.clear();
  const geo = lookup(ip);
  memo.set(ip, geo);
  return geo;
}
