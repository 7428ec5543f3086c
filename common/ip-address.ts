// What counts as an IP address or CIDR block, for the proxy's trusted proxies and the API's filters.

import { isIP } from 'node:net';

/** An IPv4 or IPv6 address without a zone, or a CIDR block of either (`10.0.0.0/8`, `2001:db8::/32`). */
export function isAddressOrCidr(value: string): boolean {
  if (value.includes('%')) return false;
  const slash = value.indexOf('/');
  if (slash === -1) return isIP(value) !== 0;
  const family = isIP(value.slice(0, slash));
  const prefix = value.slice(slash + 1);
  if (family === 0 || !/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}
