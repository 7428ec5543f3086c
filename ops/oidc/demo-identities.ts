// The demo identity provider's users and client, shared by `node ops/oidc/main.ts` (the examples)
// and `npm start`. For local use only: these users sign in by picking their name.

import type { IssuerUser } from './issuer.ts';

export const DEMO_ISSUER_PORT = 9400;

export const DEMO_SSO_CLIENT = { client_id: 'proxy-local', client_secret: 'demo-client-secret' } as const;

/** alice and carol are in `staff`, which the example SSO service admits; bob is not. */
export const DEMO_SSO_USERS: IssuerUser[] = [
  { sub: 'alice', email: 'alice@example.com', groups: ['staff'], name: 'Alice Archer' },
  { sub: 'bob', email: 'bob@example.com', groups: ['contractors'], preferred_username: 'bob' },
  { sub: 'carol', email: 'carol@example.com', groups: ['staff', 'admins'], name: 'Carol Chen' },
];

export const DEMO_SSO_ALLOWED_GROUPS = ['staff'];
