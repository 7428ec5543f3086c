// The demo stack's fixed facts, shared by `npm start` (which writes the configurations) and
// `npm run demo:traffic` (which sends requests to what it started).

import { join } from 'node:path';
import { REPO_ROOT } from '../elasticsearch/distribution.ts';

/** Configurations, logs, checkpoints and local data of `npm start`; STACK_DIR moves it (the stack's own test does). */
export const STACK_DIR = process.env.STACK_DIR ?? join(REPO_ROOT, '.cache', 'stack');
/** Written by `npm start` once everything listens; read by demo:traffic. */
export const STACK_STATE_FILE = join(STACK_DIR, 'stack.json');

export const PORTS = { proxy: 8080, api: 8082, issuer: 9400, upstream: 9401, shipperMetrics: 9402 } as const;
/** A port nothing listens on: the `legacy` service's upstream, so its requests fail with 502. */
export const DEAD_UPSTREAM_PORT = 9409;

export const DEMO_PASSWORD = 'demo-password';
export const DEMO_PIN = '2468';
export const SSO_CLIENT = { client_id: 'proxy-demo', client_secret: 'proxy-demo-client-secret' };
export const SSO_USERS = [
  { sub: 'alice', email: 'alice@example.com', groups: ['engineering'] },
  { sub: 'bob', email: 'bob@example.com', groups: ['sales'] },
  { sub: 'mallory', email: 'mallory@example.net', groups: ['contractors'] },
];
/** Only these groups may use the SSO service: mallory is turned away with 403. */
export const SSO_ALLOWED_GROUPS = ['engineering', 'sales'];

/** One example service per auth method, plus one whose upstream is down and one that is slow. */
export const SERVICES = {
  open: { host: 'open.localhost', auth: 'none' },
  wiki: { host: 'wiki.localhost', auth: 'password' },
  door: { host: 'door.localhost', auth: 'pin' },
  grafana: { host: 'grafana.localhost', auth: 'sso' },
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
