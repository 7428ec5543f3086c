// A small HTTP client that behaves like one browser: a cookie jar per host, redirects followed by
// hand (so each hop is a request of its own in the proxy's log), and, behind the demo proxy, the
// visitor's address sent as X-Forwarded-For the way a load balancer would.

import { Agent, request } from 'undici';

export interface Visitor {
  ip: string;
  userAgent: string;
}

export interface Reply {
  status: number;
  location?: string;
  body: string;
}

const MAX_REDIRECTS = 10;

export class BrowserLikeClient {
  readonly #jar = new Map<string, Map<string, string>>();
  readonly #visitor: Visitor;
  readonly #proxyOrigin: URL;
  readonly #agent: Agent;
  #proxied = 0;

  /** Requests to `*.localhost` names go to the proxy at `proxyOrigin`, with the name as Host. */
  constructor(visitor: Visitor, proxyOrigin: string, agent: Agent) {
    this.#visitor = visitor;
    this.#proxyOrigin = new URL(proxyOrigin);
    this.#agent = agent;
  }

  /** Requests sent through the proxy so far (the issuer's pages are not counted). */
  get requests(): number {
    return this.#proxied;
  }

  async send(url: string, init: { method?: string; form?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Reply> {
    const target = new URL(url);
    const viaProxy = target.hostname.endsWith('.localhost');
    const origin = viaProxy ? this.#proxyOrigin.origin : target.origin;
    const headers: Record<string, string> = { 'user-agent': this.#visitor.userAgent, accept: 'text/html,application/json' };
    if (viaProxy) {
      headers.host = target.host;
      headers['x-forwarded-for'] = this.#visitor.ip;
      this.#proxied++;
    }
    const cookies = this.#jar.get(target.host);
    if (cookies?.size) headers.cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      body = new URLSearchParams(init.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const response = await request(`${origin}${target.pathname}${target.search}`, {
      method: (init.method ?? (body ? 'POST' : 'GET')) as 'GET',
      headers,
      body,
      dispatcher: this.#agent,
      signal: init.signal,
    });
    this.#remember(target.host, response.headers['set-cookie']);
    const text = await response.body.text();
    const location = response.headers.location;
    return { status: response.statusCode, body: text, location: typeof location === 'string' ? new URL(location, target).href : undefined };
  }

  /** Follows redirects as a browser would (a POST answered with 302/303 continues as a GET). */
  async follow(url: string, init: { form?: Record<string, string> } = {}): Promise<Reply & { url: string }> {
    let reply = await this.send(url, init);
    let current = url;
    for (let hops = 0; reply.location && reply.status >= 300 && reply.status < 400 && hops < MAX_REDIRECTS; hops++) {
      current = reply.location;
      reply = await this.send(current);
    }
    return { ...reply, url: current };
  }

  #remember(host: string, setCookie: string | string[] | undefined): void {
    if (!setCookie) return;
    const jar = this.#jar.get(host) ?? new Map<string, string>();
    this.#jar.set(host, jar);
    for (const line of Array.isArray(setCookie) ? setCookie : [setCookie]) {
      const pair = line.split(';', 1)[0]!;
      const equals = pair.indexOf('=');
      if (equals <= 0) continue;
      const name = pair.slice(0, equals).trim();
      const value = pair.slice(equals + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  }
}
