// Maps a failed SSO step (openid-client / oauth4webapi errors, network failures) to the status
// and the plain-words reason that go into the access log. Any other error is a bug, not the
// issuer's or the user's doing: callers rethrow it, and it becomes a 500.

import * as oidc from 'openid-client';

export interface SsoFailure {
  status: number;
  reason: string;
}

const CLAIM_REASONS: Record<string, string> = {
  aud: 'ID token audience mismatch',
  iss: 'ID token issuer mismatch',
  nonce: 'nonce mismatch',
  azp: 'ID token authorized party mismatch',
};

function causeChain(error: unknown): Array<Record<string, unknown>> {
  const chain: Array<Record<string, unknown>> = [];
  let current = error;
  while (typeof current === 'object' && current !== null && chain.length < 5) {
    chain.push(current as Record<string, unknown>);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

/** A system error (ECONNREFUSED, ETIMEDOUT, ...) or undici's (UND_ERR_CONNECT_TIMEOUT, ...) somewhere in the cause chain. */
function isNetworkFailure(chain: Array<Record<string, unknown>>): boolean {
  return chain.some((link) => typeof link.code === 'string' && (/^E[A-Z]+$/.test(link.code) || link.code.startsWith('UND_ERR_')));
}

function isOidcError(error: unknown): boolean {
  return (
    error instanceof oidc.ClientError ||
    error instanceof oidc.ResponseBodyError ||
    error instanceof oidc.AuthorizationResponseError ||
    error instanceof oidc.WWWAuthenticateChallengeError
  );
}

/** The issuer could not be reached or answered something openid-client refused. */
export function isIssuerFailure(error: unknown): boolean {
  return isOidcError(error) || isNetworkFailure(causeChain(error));
}

/** What a failed callback means for the user, or undefined when the error is none of the issuer's or the network's. */
export function ssoFailure(error: unknown): SsoFailure | undefined {
  const chain = causeChain(error);
  if (isNetworkFailure(chain)) return { status: 502, reason: 'SSO issuer unreachable' };
  if (!isOidcError(error)) return undefined;
  for (const link of chain) {
    if (typeof link.claim === 'string') return { status: 403, reason: CLAIM_REASONS[link.claim] ?? `ID token ${link.claim} claim invalid` };
  }
  const codes = chain.map((link) => link.code);
  if (codes.includes('OAUTH_AUTHORIZATION_RESPONSE_ERROR')) return { status: 403, reason: 'SSO login refused by issuer' };
  if (codes.includes('OAUTH_RESPONSE_BODY_ERROR')) return { status: 403, reason: 'SSO code rejected by issuer' };
  if (codes.includes('OAUTH_JWT_TIMESTAMP_CHECK_FAILED')) return { status: 403, reason: 'ID token expired' };
  return { status: 403, reason: 'invalid SSO callback' };
}
