// The proxy's own errors; their codes are listed in common/errors.ts.

import { ProxyAccessLogError } from '../common/errors.ts';

export class SecretHashError extends ProxyAccessLogError {
  readonly code = 'PROXY_SECRET_HASH_INVALID';
}

export class BodyTooLargeError extends ProxyAccessLogError {
  readonly code = 'PROXY_BODY_TOO_LARGE';
}
