// Named errors with stable codes, so callers and tests match on `code`, never on message text.

export class ConfigError extends Error {
  readonly code = 'PROXY_CONFIG_INVALID';
  override name = 'ConfigError';
}

export class SecretHashError extends Error {
  readonly code = 'PROXY_SECRET_HASH_INVALID';
  override name = 'SecretHashError';
}

export class BodyTooLargeError extends Error {
  readonly code = 'PROXY_BODY_TOO_LARGE';
  override name = 'BodyTooLargeError';
}
