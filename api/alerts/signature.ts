// How a webhook receiver checks that an alert is ours: the header carries the HMAC-SHA256 of the
// exact body bytes under the shared secret, hex, as `sha256=<hex>`.

import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-proxy-access-log-signature';

export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function verify(secret: string, body: string, header: string | undefined): boolean {
  const expected = Buffer.from(sign(secret, body));
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
