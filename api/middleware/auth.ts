// Bearer-token check for the /api routes. The token is compared by digest in constant time
// (tokens.ts); neither the header nor the token is ever logged. What the token may do (its
// TokenGrant: permissions and service scope) goes on ctx.state for the handlers.

import type { Context, Next } from 'koa';
import { UnauthorizedError } from '../errors.ts';
import { presentedToken, type Permission, type TokenGrant, type TokenVerifier } from '../tokens.ts';
import type { ServiceScope } from '../query/scope.ts';
import type { RequestState } from './errors.ts';

/** The paths behind the token: everything under /api. */
export function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/');
}

export function requireToken(verifier: TokenVerifier) {
  return async (ctx: Context, next: Next) => {
    const token = presentedToken(ctx.get('Authorization') || undefined);
    const grant = token === undefined ? undefined : verifier.verify(token);
    if (grant === undefined) throw new UnauthorizedError();
    (ctx.state as RequestState).grant = grant;
    await next();
  };
}

/** The request's grant; only routes behind requireToken call this. */
export function grantOf(ctx: Context): TokenGrant {
  const grant = (ctx.state as RequestState).grant;
  if (!grant) throw new UnauthorizedError();
  return grant;
}

/** The service scope of a request to an endpoint needing `permission` (403 without it). */
export function scopeFor(ctx: Context, permission: Permission): ServiceScope {
  return grantOf(ctx).scopeFor(permission);
}
