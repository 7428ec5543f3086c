// Header rewriting between client and upstream: hop-by-hop headers dropped both ways, the proxy's
// cookies stripped (and the Basic credentials meant for the proxy), X-Forwarded-* and X-Request-Id set. Forwarding headers that arrive from an
// untrusted peer are discarded, so a client cannot spoof its address or scheme upstream.

import type { IncomingHttpHeaders } from 'node:http';
import { stripOwnCookies } from './auth/session-cookie.ts';
import type { Exchange } from './exchange.ts';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
/** Dropped from requests: undici rejects `expect`, the upstream Host is undici's, the rest the proxy sets itself. */
const REQUEST_DROPPED = new Set(['host', 'expect', 'x-request-id']);
const FORWARDING = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded']);

/** Extra names listed in a Connection header are hop-by-hop too. */
function connectionListed(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
  if (text === 'keep-alive' || text === 'close') return undefined;
  return new Set(text.split(',').map((name) => name.trim().toLowerCase()));
}

/**
 * Headers for the upstream request, as a flat [name, value, …] list built from the raw headers so
 * repeated headers survive. An upgrade's Connection/Upgrade pair is undici's to write (its
 * `upgrade` dispatch option), so it is dropped here like any hop-by-hop header.
 */
export function upstreamRequestHeaders(
  rawHeaders: string[],
  headers: IncomingHttpHeaders,
  exchange: Exchange,
  peer: string,
  peerTrusted: boolean,
  dropAuthorization: boolean,
): string[] {
  const listed = connectionListed(headers.connection);
  const out: string[] = [];
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || REQUEST_DROPPED.has(lower) || (listed !== undefined && listed.has(lower))) continue;
    if (FORWARDING.has(lower) && (!peerTrusted || lower !== 'forwarded')) continue;
    if (dropAuthorization && lower === 'authorization') continue;
    let value = rawHeaders[index + 1]!;
    if (lower === 'cookie') {
      const kept = stripOwnCookies(value);
      if (kept === undefined) continue;
      value = kept;
    }
    out.push(name, value);
  }
  const priorFor = peerTrusted ? headers['x-forwarded-for'] : undefined;
  out.push('x-forwarded-for', priorFor === undefined ? peer : `${Array.isArray(priorFor) ? priorFor.join(', ') : priorFor}, ${peer}`);
  out.push('x-forwarded-proto', exchange.protocol === 'https' || exchange.protocol === 'wss' ? 'https' : 'http');
  const priorHost = peerTrusted ? headers['x-forwarded-host'] : undefined;
  out.push('x-forwarded-host', typeof priorHost === 'string' ? priorHost : (headers.host ?? exchange.host));
  out.push('x-request-id', exchange.id);
  return out;
}

/** Upstream response headers minus hop-by-hop ones; mutates and returns the object undici handed over. */
export function clientResponseHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[] | undefined> {
  const listed = connectionListed(headers.connection);
  for (const name of HOP_BY_HOP) if (headers[name] !== undefined) delete headers[name];
  if (listed !== undefined) for (const name of listed) delete headers[name];
  return headers;
}
