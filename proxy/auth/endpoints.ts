// The proxy's own endpoints live under one reserved path prefix on every service host. Requests
// under it are answered by the proxy and never forwarded upstream.

export const RESERVED_PREFIX = '/.proxy/';
export const LOGIN_PATH = '/.proxy/login';
export const CALLBACK_PATH = '/.proxy/callback';
export const LOGOUT_PATH = '/.proxy/logout';
