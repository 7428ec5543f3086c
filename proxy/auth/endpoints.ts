// The proxy's own endpoints live under one reserved path prefix on every service host. Requests
// under it are answered by the proxy and never forwarded upstream.

export const RESERVED_PREFIX = '/.proxy/';
export const LOGIN_PATH = '/.proxy/login';
export const CALLBACK_PATH = '/.proxy/callback';
export const LOGOUT_PATH = '/.proxy/logout';
/** Where a magic link points: the proxy checks its token and the browser's nonce there. */
export const LINK_PATH = '/.proxy/link';

/** One method's login under a service with several: its form, or the start of its redirect. */
export function methodLoginPath(method: string): string {
  return `${LOGIN_PATH}/${method}`;
}
