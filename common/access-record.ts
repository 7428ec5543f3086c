// The access-log record: one NDJSON line per request, written by the proxy and read by the shipper.
// This module is the single definition of its shape (DESIGN.md, "The access-log record").

export const AUTH_METHODS = ['none', 'password', 'pin', 'sso'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

export const PROTOCOLS = ['http', 'https', 'ws', 'wss'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export interface AccessRecord {
  /** When the request arrived: ISO-8601, millisecond precision, UTC. */
  time: string;
  /** Unique request id, also sent upstream as X-Request-Id. */
  id: string;
  /** The configured service id that matched the Host; absent when none matched. */
  service?: string;
  method: string;
  /** The Host the request was made to, lower-cased, without port. */
  host: string;
  /** The URL path without the query string: queries can carry secrets. */
  path: string;
  status: number;
  /** From request arrival to the last byte of the response sent. */
  duration_ms: number;
  /** The socket peer, or the right-most untrusted X-Forwarded-For address behind a trusted proxy. */
  source_ip: string;
  auth_method: AuthMethod;
  user_id?: string;
  /** The SSO user's e-mail, when the ID token carries one. */
  user_email?: string;
  /** Why a request was denied or failed, in plain words; absent for allowed requests. */
  reason?: string;
  bytes_in: number;
  bytes_out: number;
  user_agent?: string;
  /** The scheme the client used: http or https, ws or wss for WebSocket upgrades. */
  protocol: Protocol;
  /** Id of the proxy instance that wrote the line. */
  proxy: string;
}

/** Longest User-Agent kept in a record; longer values are truncated. */
export const USER_AGENT_MAX_LENGTH = 512;

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
