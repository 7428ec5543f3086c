// A real OIDC issuer (ops/oidc/issuer.ts) behind a pass-through front, so suites can see the
// tokens it hands out and, when asked, forge an ID token for another audience.

import { createPrivateKey, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { startIssuer, type IssuerClient, type IssuerUser, type RunningIssuer } from '../../ops/oidc/issuer.ts';

export interface IssuerFront {
  url: string;
  /** Raw bodies of every successful token response. */
  tokenResponses: string[];
  forgeAudience: boolean;
  stop(): Promise<void>;
}

function forgeAudience(body: string, signingKey: Record<string, unknown>): string {
  const tokens = JSON.parse(body) as { id_token: string };
  const [header, payload] = tokens.id_token.split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
  claims.aud = 'some-other-client';
  const signingInput = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const key = createPrivateKey({ key: signingKey as never, format: 'jwk' });
  const signature = sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  return JSON.stringify({ ...tokens, id_token: `${signingInput}.${signature}` });
}

export async function startIssuerFront(users: IssuerUser[], clients: IssuerClient[]): Promise<IssuerFront> {
  const front: Server = createServer();
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(front.address() as AddressInfo).port}/`;
  const issuer: RunningIssuer = await startIssuer({ publicUrl: url, users, clients });
  const inner = issuer.listenUrl.slice(0, -1);
  const state: IssuerFront = {
    url,
    tokenResponses: [],
    forgeAudience: false,
    stop: async () => {
      await issuer.stop();
      front.closeAllConnections();
      await new Promise<void>((resolve) => front.close(() => resolve()));
    },
  };
  front.on('request', async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const response = await request(`${inner}${req.url}`, { method: req.method as 'GET', headers: req.headers, body: chunks.length ? Buffer.concat(chunks) : undefined });
    let body = await response.body.text();
    if (req.url === '/token' && response.statusCode === 200) {
      state.tokenResponses.push(body);
      if (state.forgeAudience) body = forgeAudience(body, issuer.signingKey);
    }
    const headers: Record<string, unknown> = { ...response.headers };
    for (const name of ['content-length', 'transfer-encoding', 'connection', 'keep-alive']) delete headers[name];
    res.writeHead(response.statusCode, headers as never).end(body);
  });
  return state;
}
