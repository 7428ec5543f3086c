// The access-log record: one NDJSON line per request, written by the proxy and read by the shipper.
// This module is the single definition of its shape (ARCHITECTURE.md, "3. Record → document").

import { z } from 'zod';

export const AUTH_METHODS = ['none', 'password', 'pin', 'sso', 'basic', 'link'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

export const PROTOCOLS = ['http', 'https', 'ws', 'wss'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** Longest User-Agent kept in a record; longer values are truncated. */
export const USER_AGENT_MAX_LENGTH = 512;

/**
 * The record's schema: the proxy writes records of this type, the shipper validates each line
 * against it (a line that fails goes to the dead-letter file).
 */
export const accessRecordSchema = z.object({
  /** When the request arrived: ISO-8601, millisecond precision, UTC. */
  time: z.iso.datetime({ precision: 3 }),
  /** Unique request id, also sent upstream as X-Request-Id. */
  id: z.string().min(1).max(200),
  /** The configured service id whose host and path prefix matched; absent when none matched. */
  service: z.string().min(1).optional(),
  /** Empty when the request was refused before a valid method could be read. */
  method: z.string().max(32),
  /** The Host the request was made to, lower-cased, without port. */
  host: z.string(),
  /** The URL path without the query string: queries can carry secrets. */
  path: z.string(),
  status: z.number().int().min(100).max(599),
  /** From request arrival to the last byte of the response sent. */
  duration_ms: z.number().nonnegative(),
  /** The socket peer, or the right-most untrusted X-Forwarded-For address behind a trusted proxy. */
  source_ip: z.union([z.ipv4(), z.ipv6()]),
  auth_method: z.enum(AUTH_METHODS),
  user_id: z.string().min(1).optional(),
  /** The SSO user's e-mail, when the ID token carries one. */
  user_email: z.string().min(1).optional(),
  /** The user's display name: the ID token's `name` claim, else `preferred_username`. */
  user_name: z.string().min(1).optional(),
  /** Why a request was denied or failed, in plain words; absent for allowed requests. */
  reason: z.string().min(1).optional(),
  bytes_in: z.number().int().nonnegative(),
  bytes_out: z.number().int().nonnegative(),
  user_agent: z.string().max(USER_AGENT_MAX_LENGTH).optional(),
  /** The scheme the client used: http or https, ws or wss for WebSocket upgrades. */
  protocol: z.enum(PROTOCOLS),
  /** Id of the proxy instance that wrote the line. */
  proxy: z.string().min(1),
  /** The line's place in its proxy's chain (common/trail.ts); absent in lines of proxies before the trail. */
  seq: z.number().int().nonnegative().optional(),
  /** The hash of the proxy's previous line (common/trail.ts). */
  prev: z.string().length(43).optional(),
});

export type AccessRecord = z.infer<typeof accessRecordSchema>;

/** The reason of the line that stands for lines the proxy could not keep: `<this>: <count>`. */
export const DROPPED_LINES_REASON = 'access log lines dropped';

export const CATEGORIES = ['allowed', 'denied', 'error', 'client_error'] as const;
export type Category = (typeof CATEGORIES)[number];

/** Status code returned when too many failed login attempts came from one source. */
export const TOO_MANY_ATTEMPTS_STATUS = 429;

/**
 * The seed's category of a request, from its status: 1xx-3xx allowed; 401, 403 and the
 * failed-attempt limit's 429 denied; 5xx error; any other 4xx (499 client closed included) client error.
 */
export function categoryOf(status: number): Category {
  if (status < 400) return 'allowed';
  if (status === 401 || status === 403 || status === TOO_MANY_ATTEMPTS_STATUS) return 'denied';
  if (status >= 500) return 'error';
  return 'client_error';
}

/** Log file names written by the proxy and followed by the shipper: access.<N>.log. */
export const ACCESS_LOG_BASENAME = 'access';
export const ACCESS_LOG_EXTENSION = 'log';
export const ACCESS_LOG_FILE_PATTERN = /^access\.(\d+)\.log$/;

/**
 * A proxy with several worker processes: worker N writes into its own folder of the log directory,
 * `worker-<N>/access.<M>.log`, as `<proxy_id>/<N>`, its own chain of the trail. A `/` is not
 * allowed in `proxy_id`, so a worker's id never clashes with another proxy's.
 */
export const WORKER_LOG_DIR_PATTERN = /^worker-(\d+)$/;

export function workerLogDir(worker: number): string {
  return `worker-${worker}`;
}

export function workerProxyId(proxyId: string, worker: number): string {
  return `${proxyId}/${worker}`;
}
