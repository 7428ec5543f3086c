// Writes the demo stack's configuration files (proxy, shipper, API) into the stack folder, with
// the demo secrets stored as hashes, as an operator's would be.

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateToken, hashToken } from '../../api/tokens.ts';
import type { ElasticsearchConnection } from '../../common/elasticsearch-connection.ts';
import { hashSecret } from '../../proxy/secret-hash.ts';
import { DEMO_SSO_ALLOWED_GROUPS, DEMO_SSO_CLIENT } from '../oidc/demo-identities.ts';
import {
  DEAD_UPSTREAM_PORT,
  DEMO_INDEX_PREFIX,
  DEMO_LINK_DOMAIN,
  DEMO_PASSWORD,
  DEMO_PIN,
  PORTS,
  REPORTS_HEADERS_TIMEOUT_MS,
  SERVICES,
  STACK_DIR,
} from './demo.ts';

export interface StackFiles {
  proxyConfig: string;
  shipperConfig: string;
  apiConfig: string;
  logsDir: string;
  /** The API token in clear: kept (mode 0600) in the stack folder so it stays the same across starts. */
  apiToken: string;
}

async function readOrCreate(file: string, make: () => string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const value = make();
  await writeFile(file, `${value}\n`, { mode: 0o600 });
  return value;
}

async function writeJson(file: string, value: unknown): Promise<string> {
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  return file;
}

export async function writeStackFiles(elasticsearch: ElasticsearchConnection): Promise<StackFiles> {
  await mkdir(STACK_DIR, { recursive: true });
  const logsDir = join(STACK_DIR, 'logs');
  const apiToken = await readOrCreate(join(STACK_DIR, 'api-token'), generateToken);
  const sessionKeyFile = join(STACK_DIR, 'session.key');
  await readOrCreate(sessionKeyFile, () => randomBytes(32).toString('base64url'));

  const upstream = `http://127.0.0.1:${PORTS.upstream}`;
  const service = (id: keyof typeof SERVICES, auth: object, extra: object = {}) => ({
    id,
    hosts: [SERVICES[id].host],
    upstream,
    auth,
    ...extra,
  });
  const sso = {
    method: 'sso',
    issuer: `http://127.0.0.1:${PORTS.issuer}/`,
    ...DEMO_SSO_CLIENT,
    scopes: ['openid', 'email', 'profile', 'groups'],
    allowed_groups: DEMO_SSO_ALLOWED_GROUPS,
  };
  const proxyConfig = await writeJson(join(STACK_DIR, 'proxy.config.json'), {
    proxy_id: 'demo-proxy',
    listen: { host: '127.0.0.1', port: PORTS.proxy },
    // demo:traffic plays a load balancer on loopback, sending clients' addresses in X-Forwarded-For.
    trusted_proxies: ['127.0.0.1/32', '::1/128'],
    access_log: { dir: logsDir, rotation: { size: '10m', frequency: 'daily' }, keep: 20 },
    sessions: { secret_file: sessionKeyFile },
    // The stack's SMTP sink (ops/stack/smtp-sink.ts): plain SMTP on loopback, no login.
    smtp: { host: '127.0.0.1', port: PORTS.smtp, tls: 'none', from: 'proxy@demo.localhost' },
    services: [
      service('public', { method: 'none' }),
      service('wiki', { method: 'password', hash: await hashSecret(DEMO_PASSWORD), user_id: 'wiki-team' }),
      service('door', { method: 'pin', hash: await hashSecret(DEMO_PIN), user_id: 'front-desk' }),
      service('dashboard', sso),
      service('portal', [
        { method: 'password', hash: await hashSecret(DEMO_PASSWORD), user_id: 'portal-team' },
        { method: 'link', allowed_domains: [DEMO_LINK_DOMAIN] },
        sso,
      ]),
      { ...service('legacy', { method: 'none' }), upstream: `http://127.0.0.1:${DEAD_UPSTREAM_PORT}` },
      service('reports', { method: 'none' }, { upstream_timeouts: { connect_ms: 2_000, headers_ms: REPORTS_HEADERS_TIMEOUT_MS, body_ms: 10_000 } }),
    ],
  });
  const shipperConfig = await writeJson(join(STACK_DIR, 'shipper.config.json'), {
    logs: logsDir,
    state: join(STACK_DIR, 'shipper-state'),
    elasticsearch,
    index_prefix: DEMO_INDEX_PREFIX,
    metrics: { interval_ms: 60_000, port: PORTS.shipperMetrics },
    retention_days: 30,
  });
  const apiConfig = await writeJson(join(STACK_DIR, 'api.config.json'), {
    listen: { host: '127.0.0.1', port: PORTS.api },
    elasticsearch,
    index_prefix: DEMO_INDEX_PREFIX,
    tokens: [{ name: 'demo', sha256: hashToken(apiToken) }],
  });
  return { proxyConfig, shipperConfig, apiConfig, logsDir, apiToken };
}
