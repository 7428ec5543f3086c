// Responses the proxy writes itself (errors, login pages, redirects), counted into the exchange.

import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Exchange } from './exchange.ts';

export const UNEXPECTED_ERROR_REASON = 'unexpected error';

/** The policy of every text the proxy writes: it loads nothing, runs nothing, and no site may frame it. */
export const LOCAL_TEXT_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * On every response the proxy writes itself (errors, login pages, redirects): never cached, never
 * framed (clickjacking of the login forms), no Referer leaking the path onwards. A page that needs
 * more than LOCAL_TEXT_POLICY allows overrides `content-security-policy` with its own.
 */
export const LOCAL_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'content-security-policy': LOCAL_TEXT_POLICY,
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

export function sendLocal(
  res: ServerResponse,
  exchange: Exchange,
  status: number,
  contentType: string,
  body: string,
  extraHeaders?: Record<string, string | string[]>,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': bytes.length,
    ...LOCAL_RESPONSE_HEADERS,
    ...extraHeaders,
  });
  exchange.bytesOut = exchange.method === 'HEAD' ? 0 : bytes.length;
  res.end(bytes);
}

export function sendText(res: ServerResponse, exchange: Exchange, status: number, text: string, extraHeaders?: Record<string, string | string[]>): void {
  sendLocal(res, exchange, status, 'text/plain; charset=utf-8', `${text}\n`, extraHeaders);
}

/**
 * An error no handler expected (a bug, a failing library): 500 naming the request id, and the error
 * on the diagnostics log under that id. Never a 4xx, which would blame the client.
 */
export function sendUnexpected(res: ServerResponse, exchange: Exchange, diagnostics: Logger, error: unknown): void {
  const err = error instanceof Error ? { name: error.name, code: (error as { code?: unknown }).code, message: error.message, stack: error.stack } : { message: String(error) };
  diagnostics.error({ request_id: exchange.id, service: exchange.service, path: exchange.path, err }, UNEXPECTED_ERROR_REASON);
  if (exchange.done) return;
  exchange.reason = UNEXPECTED_ERROR_REASON;
  sendText(res, exchange, 500, `unexpected error; request id ${exchange.id} (in the proxy's log)`, { 'x-request-id': exchange.id });
}

export function redirect(res: ServerResponse, exchange: Exchange, status: 302 | 303, location: string, setCookies: string[] = []): void {
  const headers: Record<string, string | string[]> = { location };
  if (setCookies.length > 0) headers['set-cookie'] = setCookies;
  sendText(res, exchange, status, `see ${location}`, headers);
}
