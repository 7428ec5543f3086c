// Where the proxy may send a browser back to after a login: only somewhere on the service's own
// origin. The candidate is parsed with the WHATWG URL parser — the one browsers use on a Location
// header — against that origin, and only the parsed path and query are emitted, never the raw
// input: the parser drops TAB, CR and LF and reads `\` as `/`, so raw text that looks like a path
// (`/<TAB>/evil.example`) can still name another host.

import type { IncomingMessage } from 'node:http';
import type { Exchange } from '../exchange.ts';
import { isSecure } from './service-auth.ts';

const MAX_RETURN_TO_LENGTH = 2048;
const FALLBACK = '/';

/** The origin the client addressed: its scheme and the Host header (with port). */
export function requestOrigin(req: IncomingMessage, exchange: Exchange): string {
  return `${isSecure(exchange) ? 'https' : 'http'}://${req.headers.host ?? ''}`;
}

/** `candidate` as a path and query on `origin`, or `/` when it would leave the origin or is no URL. */
export function safeReturnPath(candidate: string | null | undefined, origin: string): string {
  if (typeof candidate !== 'string' || candidate.length === 0 || candidate.length > MAX_RETURN_TO_LENGTH) return FALLBACK;
  const base = URL.parse(origin);
  const target = base === null ? null : URL.parse(candidate, base);
  if (base === null || target === null || target.origin !== base.origin) return FALLBACK;
  // A path that starts with `//` (from `/.//evil`, say) would be read as a host name when emitted alone.
  if (target.pathname.startsWith('//')) return FALLBACK;
  return `${target.pathname}${target.search}`;
}
