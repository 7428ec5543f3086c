// Maps a failed SSO callback (openid-client / oauth4webapi errors, network failures) to the status
// and the plain-words reason that go into the access log.

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

export function ssoFailure(error: unknown): SsoFailure {
  const chain = causeChain(error);
  for (const link of chain) {
    if (typeof link.claim === 'string') return { status: 403, reason: CLAIM_REASONS[link.claim] ?? `ID token ${link.claim} claim invalid` };
  }
  const codes = chain.map((link) => link.code);
  if (codes.includes('ECONNREFUSED') || codes.includes('ECONNRESET') || codes.includes('ENOTFOUND') || codes.includes('UND_ERR_CONNECT_TIMEOUT')) {
    return { status: 502, reason: 'SSO issuer unreachable' };
  }
  if (codes.includes('OAUTH_AUTHORIZATION_RESPONSE_ERROR')) return { status: 403, reason: 'SSO login refused by issuer' };
  if (codes.includes('OAUTH_RESPONSE_BODY_ERROR')) return { status: 403, reason: 'SSO code rejected by issuer' };
  if (codes.includes('OAUTH_JWT_TIMESTAMP_CHECK_FAILED')) return { status: 403, reason: 'ID token expired' };
  return { status: 403, reason: 'invalid SSO callback' };
}
