// A demo and test OpenID Connect issuer: a real `oidc-provider` with a fixed list of users who
// sign in by picking their name (no password: for local use and tests only, bound to loopback).
// Consent is implied for the registered clients. ID tokens carry `email`, `groups`, `name` and
// `preferred_username` directly, so a relying party sees them without a userinfo call.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';

export interface IssuerUser {
  sub: string;
  email?: string;
  groups?: string[];
  /** The `name` claim (profile scope). */
  name?: string;
  /** The `preferred_username` claim (profile scope). */
  preferred_username?: string;
}

export interface IssuerClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

export interface IssuerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The issuer identifier when it is reached through something in front of it; default: its own address. */
  publicUrl?: string;
  users: IssuerUser[];
  clients: IssuerClient[];
}

export interface RunningIssuer {
  /** The issuer identifier, with trailing slash, e.g. http://127.0.0.1:9400/ */
  url: string;
  /** Where it listens (differs from `url` when `publicUrl` was given). */
  listenUrl: string;
  /** The private signing key (JWK), for tests that forge tokens. */
  signingKey: Record<string, unknown>;
  stop(): Promise<void>;
}

/** Every scope the issuer knows, granted to every registered client. */
const GRANTED_SCOPES = ['openid', 'email', 'groups', 'profile'] as const;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);

function loginPage(uid: string, users: IssuerUser[]): string {
  const options = users.map((user) => `<button name="login" value="${escapeHtml(user.sub)}">${escapeHtml(user.email ?? user.sub)}</button>`).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Demo sign-in</title></head>
<body><h1>Demo identity provider</h1><p>Sign in as:</p>
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
${options}
</form></body></html>`;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 8192) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startIssuer(options: IssuerOptions): Promise<RunningIssuer> {
  const host = options.host ?? '127.0.0.1';
  const users = new Map(options.users.map((user) => [user.sub, user]));
  let provider: Provider | undefined;

  const interaction = async (req: IncomingMessage, res: ServerResponse, match: RegExpExecArray) => {
    const details = await provider!.interactionDetails(req, res);
    if (details.uid !== match[1]) throw new Error('interaction mismatch');
    if (req.method === 'POST' && match[2] === '/login') {
      const login = (await readForm(req)).get('login') ?? '';
      if (!users.has(login)) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('unknown user\n');
        return;
      }
      await provider!.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(details.uid, options.users));
  };

  const server = createServer((req, res) => {
    const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(req.url ?? '');
    if (match) {
      interaction(req, res, match).catch((error: Error) => {
        if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' }).end(`${error.message}\n`);
      });
      return;
    }
    void provider!.callback()(req, res);
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const listenUrl = `http://${host.includes(':') ? `[${host}]` : host}:${(server.address() as AddressInfo).port}/`;
  const url = options.publicUrl ?? listenUrl;

  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'demo-signing-key', alg: 'ES256', use: 'sig' };
  provider = new Provider(url, {
    clients: options.clients.map((client) => ({
      ...client,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    })),
    jwks: { keys: [signingKey as never] },
    // Grants and sessions in memory, on purpose: a demo and test issuer keeps nothing across
    // restarts. Named explicitly because oidc-provider warns about its implicit default.
    adapter: createMemoryAdapter(),
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'], profile: ['name', 'preferred_username'] },
    scopes: [...GRANTED_SCOPES],
    conformIdTokenClaims: false,
    ttl: { AuthorizationCode: 60, Interaction: 600, Session: 86_400, Grant: 86_400, AccessToken: 600, IdToken: 600 },
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    interactions: { url: (_ctx: KoaContextWithOIDC, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx: KoaContextWithOIDC, id: string) => {
      const user = users.get(id);
      if (!user) return undefined;
      return {
        accountId: id,
        claims: () => ({
          sub: id,
          // As given, empty strings included: a real issuer can send an empty claim.
          ...(user.email !== undefined ? { email: user.email, email_verified: true } : {}),
          ...(user.groups ? { groups: user.groups } : {}),
          ...(user.name !== undefined ? { name: user.name } : {}),
          ...(user.preferred_username !== undefined ? { preferred_username: user.preferred_username } : {}),
        }),
      };
    },
    // First-party clients: consent is implied, so no consent screen.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const oidc = ctx.oidc;
      const grantId = oidc.result?.consent?.grantId ?? oidc.session!.grantIdFor(oidc.client!.clientId);
      if (grantId) {
        const existing = await oidc.provider.Grant.find(grantId);
        if (existing) return existing;
      }
      const grant = new oidc.provider.Grant({ clientId: oidc.client!.clientId, accountId: oidc.session!.accountId! });
      grant.addOIDCScope(GRANTED_SCOPES.join(' '));
      grant.addOIDCClaims(['sub', 'email', 'email_verified', 'groups', 'name', 'preferred_username']);
      await grant.save();
      return grant;
    },
  });

  return {
    url,
    listenUrl,
    signingKey,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
