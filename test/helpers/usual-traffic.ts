// Ordinary traffic for the insights suites: users on their own services from their home countries,
// a few mistyped passwords and the odd upstream failure, spread evenly over a period. Nothing in it
// is unusual, so the detectors must find nothing in it; suites plant their attacks on top.

import type { AccessRecord, AuthMethod } from '../../common/access-record.ts';
import { random } from './dataset.ts';

/** Public addresses whose geoip-lite country is known: each user's home. */
export const HOME_IP = {
  alice: '85.214.132.117', // DE
  bob: '81.2.69.142', // GB
  carol: '62.210.0.1', // FR
} as const;
export type User = keyof typeof HOME_IP;

export interface UsualService {
  id: string;
  host: string;
  auth: AuthMethod;
  /** Who uses it; none for a service without authentication. */
  users: User[];
}

export interface UsualTrafficOptions {
  services: readonly UsualService[];
  start: number;
  end: number;
  perHour: number;
  seed: number;
  /** Share of requests denied (a mistyped password) and of upstream failures (502). */
  deniedShare?: number;
  errorShare?: number;
}

export function* usualTraffic(options: UsualTrafficOptions): Generator<AccessRecord> {
  const next = random(options.seed);
  const count = Math.round(((options.end - options.start) / 3_600_000) * options.perHour);
  for (let i = 0; i < count; i++) {
    const service = options.services[Math.floor(next() * options.services.length)]!;
    const user = service.users.length > 0 ? service.users[Math.floor(next() * service.users.length)]! : undefined;
    const roll = next();
    const denied = roll < (options.deniedShare ?? 0.02);
    const failed = !denied && roll < (options.deniedShare ?? 0.02) + (options.errorShare ?? 0.005);
    const record: AccessRecord = {
      time: new Date(options.start + Math.floor(next() * (options.end - options.start))).toISOString(),
      id: `usual-${options.seed}-${i}`,
      service: service.id,
      method: 'GET',
      host: service.host,
      path: denied ? '/login' : '/',
      status: denied ? 401 : failed ? 502 : 200,
      duration_ms: 12.5,
      source_ip: user ? HOME_IP[user] : Object.values(HOME_IP)[i % 3]!,
      auth_method: service.auth,
      bytes_in: 0,
      bytes_out: 1_000,
      protocol: 'https',
      proxy: 'proxy-usual',
    };
    if (user && !denied) record.user_id = user;
    if (denied) record.reason = service.auth === 'pin' ? 'invalid PIN' : 'invalid password';
    if (failed) record.reason = 'upstream connection refused';
    yield record;
  }
}
