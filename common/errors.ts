// Every error the project raises on purpose extends ProxyAccessLogError and carries one of the codes
// below, so callers, tests and users match on `code`, never on message text. The API's error
// bodies carry the same codes in their `error` field. No Node.js imports: the web page bundles this.

export const ERROR_CODES = {
  CONFIG_INVALID: 'a configuration file, flag or ELASTICSEARCH_* variable is unreadable, not JSON, or has a bad value; the message names the key',
  PROXY_SECRET_HASH_INVALID: 'a password or PIN hash is not a scrypt hash the proxy accepts',
  PROXY_BODY_TOO_LARGE: 'a login form body is over the size limit (answered 413)',
  PROXY_CLIENT_CLOSED: 'the client closed the connection before its request body was read (logged as 499)',
  PROXY_REVOCATIONS_INVALID: 'the file of revoked sessions (`<sessions.secret_file>.revoked`) cannot be read or is not what the proxy writes; the proxy does not start',
  PROXY_TRAIL_KEY_INVALID: 'the trail signing key (`access_log.signing_key_file`) cannot be read or is not an Ed25519 private key; the proxy does not start',
  SHIPPER_CHECKPOINT_INVALID: 'the checkpoint file cannot be read; move it away to start over',
  SHIPPER_GEO_DATABASE_INVALID: 'geo.database_file cannot be read as a MaxMind DB City or Country database; the shipper does not start',
  SHIPPER_STATE_UNWRITABLE: 'the checkpoint or the dead-letter file cannot be written (full disk, read-only state directory); the shipper stops',
  SHIPPER_INDEX_TEMPLATE_MISSING: 'the shipper’s key may not install the index template and nobody has (npm run setup-elasticsearch); the shipper retries loudly and reads nothing until it is there',
  SHIPPER_OUTPUT_UNDELIVERED: 'a SIEM output’s receiver did not confirm a batch (refused it, unreachable, connection cut, timed out); the batch is retried with backoff',
  STORAGE_REQUEST_FAILED: 'a request to Elasticsearch or OpenSearch got no answer (unreachable, timed out, aborted) or an error answer; the caller retries it (shipper), answers 503 (API) or reports it',
  RETENTION_OPTIONS_INVALID: 'retention was asked to keep less than one whole day',
  API_BAD_PARAMETER: 'a query parameter is unknown, repeated where it may not be, or has a bad value (400)',
  API_UNAUTHORIZED: 'the bearer token is missing, malformed or unknown (401)',
  API_FORBIDDEN: 'the token is valid but lacks the permission (read, export, insights or audit) the endpoint needs; the body names it (403)',
  API_NOT_FOUND: 'no such endpoint (404)',
  API_ELASTICSEARCH_UNAVAILABLE: 'Elasticsearch is unreachable, timed out or overloaded (503)',
  API_EXPORT_INTERRUPTED: 'an export lost Elasticsearch part-way and could not go on: its last line names the error and the cursor to resume from (the same export with `cursor=`), and the download is cut short',
  API_CLIENT_CLOSED: 'the client went away before its answer was complete: its Elasticsearch request is aborted and the request is logged as 499, never answered',
  API_INTERNAL: 'an unexpected error; the answer names the request id, the API log holds the rest (500)',
  ALERTS_STATE_INVALID: 'the alerts state file (alerts.state_file) cannot be read or is not what the alerts process writes; it does not start',
  ALERTS_WEBHOOK_FAILED: 'a webhook did not take an alert after every attempt (unreachable, or answered other than 2xx); the alert is tried again on the next run',
  WEB_BUNDLE_FAILED: 'the web page’s code did not bundle',
  WEB_API_REQUEST_FAILED: 'the web page got an answer other than 2xx from the API, or none',
  ENGINE_MISMATCH: 'the cluster runs the other engine (Elasticsearch or OpenSearch) than the one configured; the message names both',
  ENGINE_UNKNOWN: 'the cluster’s answer to `GET /` names neither Elasticsearch nor OpenSearch, or the credentials may not read it; the message says which',
  ES_DISTRIBUTION_FETCH_FAILED: 'the Elasticsearch or OpenSearch distribution could not be downloaded or verified',
  ES_JAVA_NOT_FOUND: 'no Java runtime (21 or newer) for the local Elasticsearch or OpenSearch node',
  ES_START_FAILED: 'the local Elasticsearch or OpenSearch node did not start',
  STACK_CHILD_START_FAILED: 'a process of the `npm start` stack did not start',
  BENCH_PREREQUISITES_MISSING: 'a tool a benchmark needs is not installed',
  BENCH_PEER_START_FAILED: 'a benchmarked process did not start',
  BENCH_LOGIN_FAILED: 'the benchmark could not log in through the proxy',
  BENCH_WRK_FAILED: 'the wrk load generator failed',
  BENCH_API_FAILED: 'the API benchmark failed',
  BENCH_ENGINE_ADMIN_FAILED: 'an index administration request of the engines benchmark failed',
  BENCH_ENGINE_SHIP_INCOMPLETE: 'the shipper did not deliver the whole backlog in the engines benchmark',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export abstract class ProxyAccessLogError extends Error {
  abstract readonly code: ErrorCode;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A configuration that cannot be used; main modules print its message and exit 1. */
export class ConfigError extends ProxyAccessLogError {
  readonly code = 'CONFIG_INVALID';
}

