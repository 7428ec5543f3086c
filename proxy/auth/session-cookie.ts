// Signed cookies owned by the proxy: the login session of a service, and the short-lived SSO
// login state. Value = base64url(JSON payload) "." base64url(HMAC-SHA256); compared in constant
// time. These cookies are stripped from every request forwarded upstream.

import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AuthMethod } from '../../common/access-record.ts';

export const SESSION_COOKIE = 'proxy_session';
export const SSO_STATE_COOKIE = 'proxy_sso';
/** Binds a magic link to the browser that asked for it. */
export const LINK_NONCE_COOKIE = 'proxy_link';
const OWN_COOKIES = [SESSION_COOKIE, SSO_STATE_COOKIE, LINK_NONCE_COOKIE];
const MIN_KEY_BYTES = 32;

export interface Session {
  /** Random id, the handle by which logout revokes this session. */
  sid: string;
  service: string;
  method: AuthMethod;
  user?: string | undefined;
  email?: string | undefined;
  name?: string | undefined;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

/** An expired cookie still says what it held (its signature is good): a session's method, for the log. */
export type CookieRead<T> = { status: 'valid'; value: T } | { status: 'expired'; value: T } | { status: 'missing' | 'invalid' };

export function loadSigningKey(secretFile: string | undefined): Buffer {
  if (secretFile === undefined) return randomBytes(MIN_KEY_BYTES);
  const key = readFileSync(secretFile);
  if (key.length < MIN_KEY_BYTES) throw new Error(`sessions.secret_file ${secretFile} holds ${key.length} bytes; at least ${MIN_KEY_BYTES} are needed`);
  return key;
}

/** The value of cookie `name` in a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const equals = part.indexOf('=');
    if (equals !== -1 && part.slice(0, equals).trim() === name) return part.slice(equals + 1).trim();
  }
  return undefined;
}

/** The Cookie header without the proxy's own cookies; undefined when nothing is left. */
export function stripOwnCookies(header: string): string | undefined {
  if (header.indexOf('proxy_') === -1) return header;
  const kept = header.split(';').filter((part) => !OWN_COOKIES.includes(part.slice(0, part.indexOf('=')).trim()));
  return kept.length === 0 ? undefined : kept.map((part) => part.trim()).join('; ');
}

export class CookieSigner {
  /** A KeyObject made once: handing createHmac a Buffer imports the key again on every request (~8× slower). */
  readonly #key: KeyObject;

  constructor(key: Buffer) {
    this.#key = createSecretKey(key);
  }

  #mac(payload: string): Buffer {
    return createHmac('sha256', this.#key).update(payload).digest();
  }

  sign(value: { exp: number }): string {
    const payload = Buffer.from(JSON.stringify(value)).toString('base64url');
    return `${payload}.${this.#mac(payload).toString('base64url')}`;
  }

  verify<T extends { exp: number }>(cookie: string | undefined, nowSeconds: number): CookieRead<T> {
    if (cookie === undefined || cookie.length === 0) return { status: 'missing' };
    const dot = cookie.indexOf('.');
    if (dot === -1) return { status: 'invalid' };
    const payload = cookie.slice(0, dot);
    const given = Buffer.from(cookie.slice(dot + 1), 'base64url');
    const expected = this.#mac(payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { status: 'invalid' };
    let value: T;
    try {
      value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as T;
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      return { status: 'invalid' };
    }
    if (typeof value?.exp !== 'number') return { status: 'invalid' };
    return { status: value.exp <= nowSeconds ? 'expired' : 'valid', value };
  }
}

export function setCookieHeader(name: string, value: string, path: string, maxAgeSeconds: number, secure: boolean): string {
  return `${name}=${value}; Path=${path}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

export function clearCookieHeader(name: string, path: string, secure: boolean): string {
  return setCookieHeader(name, '', path, 0, secure);
}
