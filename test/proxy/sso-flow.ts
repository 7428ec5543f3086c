// Drives the browser's part of an SSO login through a real issuer: follow the proxy's redirect to
// the issuer, pick the user on its sign-in page, and come back to the proxy's callback. Cookies
// are kept per site, as a browser would.

import { request } from 'undici';

export class Browser {
  readonly #jars = new Map<string, Map<string, string>>();

  #jar(origin: string): Map<string, string> {
    let jar = this.#jars.get(origin);
    if (!jar) this.#jars.set(origin, (jar = new Map()));
    return jar;
  }

  cookie(origin: string, name: string): string | undefined {
    return this.#jar(origin).get(name);
  }

  setCookie(origin: string, name: string, value: string): void {
    this.#jar(origin).set(name, value);
  }

  /**
   * One request without following redirects. `site` names the cookie jar (the browser-visible
   * origin); `connectTo` is where the bytes go (the proxy's socket, for fake host names).
   */
  async fetch(url: string, options: { method?: string; form?: Record<string, string>; connectTo?: string; headers?: Record<string, string> } = {}) {
    const target = new URL(url);
    const jar = this.#jar(target.origin);
    const headers: Record<string, string> = { ...options.headers };
    if (jar.size > 0) headers.cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    if (options.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const connect = options.connectTo ? new URL(options.connectTo) : target;
    if (options.connectTo) headers.host = target.host;
    const response = await request(`${connect.origin}${target.pathname}${target.search}`, {
      method: options.method ?? (options.form ? 'POST' : 'GET'),
      headers,
      body: options.form ? new URLSearchParams(options.form).toString() : undefined,
    });
    const setCookies = response.headers['set-cookie'];
    for (const line of Array.isArray(setCookies) ? setCookies : setCookies ? [setCookies] : []) {
      const [pair] = line.split(';');
      const equals = pair!.indexOf('=');
      const name = pair!.slice(0, equals).trim();
      const value = pair!.slice(equals + 1).trim();
      if (value === '' || /max-age=0/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
    const body = await response.body.text();
    const location = response.headers.location as string | undefined;
    return { status: response.statusCode, location: location ? new URL(location, url).href : undefined, body, headers: response.headers };
  }
}

export interface SsoLoginResult {
  /** The proxy's answer to the callback. */
  callback: { status: number; location: string | undefined; body: string };
  /** The callback URL the issuer sent the browser to. */
  callbackUrl: string;
}

/**
 * From "GET site path" without a session to the proxy's answer on its callback. `proxyUrl` is the
 * proxy's real socket address; `site` is the service origin as the browser sees it.
 */
export async function ssoLogin(
  browser: Browser,
  proxyUrl: string,
  site: string,
  path: string,
  user: string,
  options: { tamperCallback?: (url: URL) => void; clientIp?: string } = {},
): Promise<SsoLoginResult> {
  const headers: Record<string, string> = options.clientIp ? { 'x-forwarded-for': options.clientIp } : {};
  const start = await browser.fetch(`${site}${path}`, { connectTo: proxyUrl, headers });
  if (start.status !== 302 || !start.location) throw new Error(`expected a redirect to the issuer, got ${start.status}`);
  let next = await browser.fetch(start.location);
  let guard = 0;
  while (next.status >= 300 && next.status < 400 && next.location && !next.location.startsWith(site)) {
    next = await browser.fetch(next.location);
    if (++guard > 10) throw new Error('redirect loop at the issuer');
  }
  if (next.status === 200 && /\/interaction\//.test(next.body)) {
    const action = /action="([^"]+)"/.exec(next.body)![1]!;
    const interactionUrl = new URL(action, start.location).href;
    next = await browser.fetch(interactionUrl, { form: { login: user } });
    while (next.status >= 300 && next.status < 400 && next.location && !next.location.startsWith(site)) {
      next = await browser.fetch(next.location);
      if (++guard > 20) throw new Error('redirect loop at the issuer');
    }
  }
  if (!next.location?.startsWith(site)) throw new Error(`issuer did not send the browser back: ${next.status} ${next.body.slice(0, 200)}`);
  const callbackUrl = new URL(next.location);
  options.tamperCallback?.(callbackUrl);
  const callback = await browser.fetch(callbackUrl.href, { connectTo: proxyUrl, headers });
  return { callback, callbackUrl: callbackUrl.href };
}
