// The proxy's own errors; their codes are listed in common/errors.ts.

import { ProxyAccessLogError } from '../common/errors.ts';

export class SecretHashError extends ProxyAccessLogError {
  readonly code = 'PROXY_SECRET_HASH_INVALID';
}

export class BodyTooLargeError extends ProxyAccessLogError {
  readonly code = 'PROXY_BODY_TOO_LARGE';
}

/** The client went away before its request body was read; the access log records it as 499. */
export class ClientClosedError extends ProxyAccessLogError {
  readonly code = 'PROXY_CLIENT_CLOSED';
}

/** The revoked-sessions file cannot be read back; starting without it would revive logged-out sessions. */
export class RevocationsFileError extends ProxyAccessLogError {
  readonly code = 'PROXY_REVOCATIONS_INVALID';
}

/** `access_log.signing_key_file` is unreadable or not an Ed25519 private key; the proxy does not start. */
export class TrailKeyError extends ProxyAccessLogError {
  readonly code = 'PROXY_TRAIL_KEY_INVALID';
}
