// The demo stack's fixed facts, shared by `npm start` (which writes the configurations) and
// `npm run demo:traffic` (which sends requests to what it started).

import { join } from 'node:path';
import { REPO_ROOT } from '../elasticsearch/distribution.ts';
import { DEMO_ISSUER_PORT } from '../oidc/demo-identities.ts';

/** Configurations, logs, checkpoints and local data of `npm start`; STACK_DIR moves it (the stack's own test does). */
export const STACK_DIR = process.env.STACK_DIR ?? join(REPO_ROOT, '.cache', 'stack');
/** Written by `npm start` once everything listens; read by demo:traffic. */
export const STACK_STATE_FILE = join(STACK_DIR, 'stack.json');

/**
 * The demo's daily indices: `npm start` writes and expires only these, so the demo shares a cluster
 * named by ELASTICSEARCH_URL with the operator's own `proxy-events-*` without touching them.
 */
export const DEMO_INDEX_PREFIX = 'demo-proxy-events';

export const PORTS = { proxy: 8080, api: 8082, issuer: DEMO_ISSUER_PORT, upstream: 9401, shipperMetrics: 9402, smtp: 9403 } as const;
/** A port nothing listens on: the `legacy` service's upstream, so its requests fail with 502. */
export const DEAD_UPSTREAM_PORT = 9409;

export const DEMO_PASSWORD = 'demo-password';
export const DEMO_PIN = '2468';

/** Who may ask the `portal` service for a magic link: any address at this domain. */
export const DEMO_LINK_DOMAIN = 'example.com';

/**
 * One service per auth method, named as in examples/proxy.config.json, one offering several (a
 * chooser), plus one whose upstream is down and one that is slow.
 */
export const SERVICES = {
  public: { host: 'public.localhost', auth: 'none' },
  wiki: { host: 'wiki.localhost', auth: 'password' },
  door: { host: 'door.localhost', auth: 'pin' },
  dashboard: { host: 'dashboard.localhost', auth: 'sso' },
  portal: { host: 'portal.localhost', auth: 'password, link, sso' },
  legacy: { host: 'legacy.localhost', auth: 'none' },
  reports: { host: 'reports.localhost', auth: 'none' },
} as const;
export type ServiceId = keyof typeof SERVICES;
/** The `reports` service gives its upstream this long to answer: /slow?ms= above it is a 504. */
export const REPORTS_HEADERS_TIMEOUT_MS = 2_000;

export interface StackState {
  proxyUrl: string;
  apiUrl: string;
  issuerUrl: string;
  apiToken: string;
  elasticsearchUrl: string;
}
