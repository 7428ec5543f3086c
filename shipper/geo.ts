// Geolocation of a source address from geoip-lite's bundled data set. Private, loopback and
// other non-public addresses simply have no geo (geoip-lite finds nothing for them).

import geoip from 'geoip-lite';
import type { GeoFields } from '../common/proxy-event-document.ts';

const countryNames = new Intl.DisplayNames(['en'], { type: 'region' });

export function geoOf(ip: string): GeoFields | undefined {
  const found = geoip.lookup(ip);
  if (!found || !found.country) return undefined;
  const geo: GeoFields = { country_iso_code: found.country };
  const name = countryNames.of(found.country);
  if (name && name !== found.country) geo.country_name = name;
  // ECS region_iso_code is the ISO 3166-2 code: country and subdivision, e.g. "GB-ENG".
  if (found.region) geo.region_iso_code = `${found.country}-${found.region}`;
  if (found.city) geo.city_name = found.city;
  const [lat, lon] = found.ll;
  if (Number.isFinite(lat) && Number.isFinite(lon)) geo.location = { lat, lon };
  return geo;
}
