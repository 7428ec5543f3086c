// Bearer-token check for the /api routes. The token is compared by digest in constant time
// (tokens.ts); neither the header nor the token is ever logged.

import type { Context, Next } from 'koa';
import { UnauthorizedError } from '../errors.ts';
import { presentedToken, type TokenVerifier } from '../tokens.ts';
import type { RequestState } from './errors.ts';

export function requireToken(verifier: TokenVerifier) {
  return async (ctx: Context, next: Next) => {
    const token = presentedToken(ctx.get('Authorization') || undefined);
    const name = token === undefined ? undefined : verifier.verify(token);
    if (name === undefined) throw new UnauthorizedError();
    (ctx.state as RequestState).tokenName = name;
    await next();
  };
}
