// CORS, off unless origins are configured: a listed Origin gets the allow headers, and its
// preflight is answered here, before authentication (browsers send preflights without tokens).

import type { Context, Next } from 'koa';

const PREFLIGHT_MAX_AGE_SECONDS = 600;

export function cors(origins: readonly string[]) {
  const allowed = new Set(origins);
  return async (ctx: Context, next: Next) => {
    const origin = ctx.get('Origin');
    if (!origin || !allowed.has(origin)) return next();
    ctx.vary('Origin');
    ctx.set('Access-Control-Allow-Origin', origin);
    ctx.set('Access-Control-Expose-Headers', 'X-Request-Id');
    if (ctx.method === 'OPTIONS' && ctx.get('Access-Control-Request-Method')) {
      ctx.set('Access-Control-Allow-Methods', 'GET, OPTIONS');
      ctx.set('Access-Control-Allow-Headers', 'Authorization');
      ctx.set('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_SECONDS));
      ctx.status = 204;
      return;
    }
    await next();
  };
}
