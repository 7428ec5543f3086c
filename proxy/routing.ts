// Routing by Host: case-insensitive, port and trailing dot ignored; and the request's loggable
// path (never its query string).

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

export class Router<T> {
  readonly #byHost = new Map<string, T>();

  add(hosts: readonly string[], target: T): void {
    for (const host of hosts) this.#byHost.set(host, target);
  }

  match(host: string): T | undefined {
    return this.#byHost.get(host);
  }
}
