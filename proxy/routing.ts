// Routing by Host (case-insensitive, port and trailing dot ignored) and path prefix, longest
// first; and the request's loggable path (never its query string).

import { RESERVED_PREFIX } from './auth/endpoints.ts';

/** The Host header's name part, lower-cased, without port; IPv6 literals keep their brackets. */
export function hostOf(header: string | undefined): string {
  if (header === undefined || header.length === 0) return '';
  let name: string;
  if (header.charCodeAt(0) === 91 /* [ */) {
    const close = header.indexOf(']');
    name = close === -1 ? header : header.slice(0, close + 1);
  } else {
    const colon = header.indexOf(':');
    name = colon === -1 ? header : header.slice(0, colon);
  }
  if (name.endsWith('.')) name = name.slice(0, -1);
  return name.toLowerCase();
}

/** The URL path without query string or fragment; absolute-form targets are reduced to their path. */
export function pathOf(url: string | undefined): string {
  if (url === undefined || url.length === 0) return '/';
  let path = url;
  if (url.charCodeAt(0) !== 47 /* / */ && url !== '*') {
    if (!URL.canParse(url)) return '/';
    path = new URL(url).pathname;
  }
  const query = path.indexOf('?');
  if (query !== -1) path = path.slice(0, query);
  const fragment = path.indexOf('#');
  return fragment === -1 ? path : path.slice(0, fragment);
}

/** The target to send upstream: origin-form, query included (the upstream needs it; only the log drops it). */
export function upstreamTarget(url: string | undefined): string {
  if (url === undefined || url.length === 0) return '/';
  if (url.charCodeAt(0) === 47) return url;
  if (!URL.canParse(url)) return '/';
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}

/**
 * The authority of an absolute-form target (`http://wiki.example/secret`), which RFC 9112 §3.2.2
 * puts before any Host header; undefined for origin-form (and `*`) targets.
 */
export function targetAuthority(url: string): string | undefined {
  if (url.charCodeAt(0) === 47 /* / */ || !URL.canParse(url)) return undefined;
  const host = new URL(url).host;
  return host.length === 0 ? undefined : host;
}

/** How many Host headers the request carries (RFC 9112 §3.2: exactly one in HTTP/1.1). */
export function hostHeaderCount(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!;
    if (name.length === 4 && name.toLowerCase() === 'host') count++;
  }
  return count;
}

/** Percent-escapes of unreserved characters (RFC 3986 §2.3: letters, digits, - . _ ~), which mean the character itself. */
const UNRESERVED_ESCAPE = /%(?:[46][1-9A-F]|[57][0-9A]|3[0-9]|2[DE]|5F|7E)/gi;
const DOT_SEGMENT_OR_SLASHES = /\/\.|\/\/|\\/;

/**
 * The path a route is chosen by: unreserved escapes decoded, `.` and `..` segments resolved,
 * repeated slashes merged, `\` read as `/`. An upstream that normalises (most do) then sees the
 * same path the route was chosen for, so `/public/../admin` or `/%61dmin` cannot reach the
 * `/admin` route's upstream through another route.
 */
export function routingPath(path: string): string {
  let normal = path.indexOf('%') === -1 ? path : path.replace(UNRESERVED_ESCAPE, (escape) => String.fromCharCode(Number.parseInt(escape.slice(1), 16)));
  if (DOT_SEGMENT_OR_SLASHES.test(normal)) normal = new URL(normal.replace(/[\\/]+/g, '/'), 'http://routing.invalid').pathname;
  return normal;
}

/** True when `prefix` (no trailing slash, or `/`) is `path` or a whole-segment start of it. */
function underPrefix(path: string, prefix: string): boolean {
  if (prefix === '/') return true;
  return path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 47 /* / */);
}

export interface Route<T> {
  target: T;
  /** The path prefix, `/` for the whole host. */
  prefix: string;
  /** Whether the prefix is cut from the path sent upstream. */
  strip: boolean;
}

export type Match<T> =
  | { route: Route<T>; /** The path the route was chosen by. */ path: string; /** The target to send upstream (query included). */ upstream: string }
  | { route: undefined; reason: typeof UNKNOWN_HOST_REASON | typeof UNKNOWN_PATH_REASON };

export const UNKNOWN_HOST_REASON = 'unknown host';
export const UNKNOWN_PATH_REASON = 'unknown path';

interface HostRoutes<T> {
  /** Longest prefix first. */
  routes: Route<T>[];
  /** Whether any route has a prefix other than `/`: only then is the path normalised and rebuilt. */
  byPath: boolean;
  /** Who answers the proxy's own endpoints (`/.proxy/…`) on this host. */
  endpoints: Route<T> | undefined;
}

export class Router<T> {
  readonly #byHost = new Map<string, HostRoutes<T>>();

  /** `ownsEndpoints`: this route answers the host's `/.proxy/…` endpoints (else the shortest prefix does). */
  add(host: string, route: Route<T>, ownsEndpoints: boolean): void {
    let entry = this.#byHost.get(host);
    if (entry === undefined) this.#byHost.set(host, (entry = { routes: [], byPath: false, endpoints: undefined }));
    entry.routes.push(route);
    entry.routes.sort((a, b) => b.prefix.length - a.prefix.length);
    entry.byPath ||= route.prefix !== '/';
    if (ownsEndpoints) entry.endpoints = route;
  }

  /** The route for a request to `host` with logged path `path` and raw target `url`: the longest matching prefix. */
  match(host: string, path: string, url: string | undefined): Match<T> {
    const entry = this.#byHost.get(host);
    if (entry === undefined) return { route: undefined, reason: UNKNOWN_HOST_REASON };
    if (!entry.byPath) return { route: entry.routes[0]!, path, upstream: upstreamTarget(url) };
    const normal = routingPath(path);
    const route = normal.startsWith(RESERVED_PREFIX) ? (entry.endpoints ?? entry.routes.at(-1)!) : entry.routes.find((each) => underPrefix(normal, each.prefix));
    if (route === undefined) return { route: undefined, reason: UNKNOWN_PATH_REASON };
    const rest = route.strip && route.prefix !== '/' ? normal.slice(route.prefix.length) : normal;
    const query = url === undefined ? -1 : url.indexOf('?');
    return { route, path: normal, upstream: (rest.length === 0 ? '/' : rest) + (query === -1 ? '' : url!.slice(query)) };
  }
}
