// The shipper's configuration: a JSON file (--config), command-line flags that override it, and the
// ELASTICSEARCH_* environment for the cluster when neither names one. Validated with zod; a bad
// value is reported by its key.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  connectionFromEnv,
  elasticsearchConnectionSchema,
  type ElasticsearchConnection,
} from '../common/elasticsearch-connection.ts';
import { DEFAULT_INDEX_PREFIX } from '../common/proxy-event-document.ts';

export class ConfigError extends Error {
  readonly code = 'SHIPPER_BAD_CONFIG';
}

const positiveInt = z.number().int().positive();

export const shipperConfigSchema = z
  .object({
    /** The proxy's log directory, holding access.<N>.log. */
    logs: z.string().min(1),
    /** Where the checkpoint and the dead-letter file live. */
    state: z.string().min(1),
    elasticsearch: elasticsearchConnectionSchema,
    index_prefix: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'lower-case letters, digits, _ . - (an index name prefix)').default(DEFAULT_INDEX_PREFIX),
    batch: z
      .object({
        max_lines: positiveInt.default(5_000),
        max_bytes: positiveInt.default(5 * 1024 * 1024),
        /** Longest a line waits for its batch to fill, counted from the batch's first line. */
        flush_interval_ms: positiveInt.default(1_000),
      })
      .strict()
      .prefault({}),
    /** fs.watch misses events on some file systems (NFS, some containers): look anyway this often. */
    poll_interval_ms: positiveInt.default(1_000),
    retry: z
      .object({ initial_delay_ms: positiveInt.default(200), max_delay_ms: positiveInt.default(30_000) })
      .strict()
      .prefault({}),
    metrics: z
      .object({
        /** Metrics line on stderr this often. */
        interval_ms: positiveInt.default(60_000),
        /** Serve Prometheus metrics at http://host:port/metrics when set. */
        port: z.number().int().min(0).max(65_535).optional(),
        host: z.string().min(1).default('127.0.0.1'),
      })
      .strict()
      .prefault({}),
    /** When set, daily indices older than this many days are deleted at start and then daily. */
    retention_days: positiveInt.optional(),
  })
  .strict();

export type ShipperConfig = z.infer<typeof shipperConfigSchema>;

const FLAGS = {
  config: { type: 'string' },
  logs: { type: 'string' },
  state: { type: 'string' },
  elasticsearch: { type: 'string' },
  'index-prefix': { type: 'string' },
  'batch-lines': { type: 'string' },
  'batch-bytes': { type: 'string' },
  'flush-interval-ms': { type: 'string' },
  'poll-interval-ms': { type: 'string' },
  'metrics-interval-ms': { type: 'string' },
  'metrics-port': { type: 'string' },
  'retention-days': { type: 'string' },
} as const;

type Raw = Record<string, unknown>;

function section(raw: Raw, key: string): Raw {
  const value = raw[key];
  if (value === undefined) return (raw[key] = {});
  if (typeof value !== 'object' || value === null) return {};
  return value as Raw;
}

/** A numeric flag: kept as its text when it is not a number, so the schema names the bad key. */
function numeric(text: string): number | string {
  return /^\d+$/.test(text) ? Number(text) : text;
}

function readConfigFile(path: string): Raw {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Raw;
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

function describeIssues(issues: z.core.$ZodIssue[], under = ''): string {
  return issues
    .map((issue) => {
      const key = [under, ...issue.path.map(String)].filter(Boolean).join('.') || '(top level)';
      return `${key}: ${issue.message}`;
    })
    .join('; ');
}

/** The cluster from --elasticsearch URL (credentials from the environment) or from ELASTICSEARCH_*. */
function elasticsearchFromFlagOrEnv(url: string | undefined, env: NodeJS.ProcessEnv): ElasticsearchConnection | undefined {
  try {
    return connectionFromEnv(url === undefined ? env : { ...env, ELASTICSEARCH_URL: url });
  } catch (error) {
    if (!(error instanceof z.ZodError)) throw error;
    const source = url === undefined ? ' (from ELASTICSEARCH_* environment)' : '';
    throw new ConfigError(`invalid shipper configuration${source}: ${describeIssues(error.issues, 'elasticsearch')}`);
  }
}

/** The configuration from argv (without node and script) and the environment. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): ShipperConfig {
  let values: Partial<Record<keyof typeof FLAGS, string>>;
  try {
    ({ values } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const raw: Raw = values.config ? readConfigFile(values.config) : {};
  if (values.logs) raw.logs = values.logs;
  if (values.state) raw.state = values.state;
  if (values['index-prefix']) raw.index_prefix = values['index-prefix'];
  if (values.elasticsearch !== undefined || raw.elasticsearch === undefined) {
    const connection = elasticsearchFromFlagOrEnv(values.elasticsearch, env);
    if (connection) raw.elasticsearch = connection;
  }
  if (values['batch-lines']) section(raw, 'batch').max_lines = numeric(values['batch-lines']);
  if (values['batch-bytes']) section(raw, 'batch').max_bytes = numeric(values['batch-bytes']);
  if (values['flush-interval-ms']) section(raw, 'batch').flush_interval_ms = numeric(values['flush-interval-ms']);
  if (values['poll-interval-ms']) raw.poll_interval_ms = numeric(values['poll-interval-ms']);
  if (values['metrics-interval-ms']) section(raw, 'metrics').interval_ms = numeric(values['metrics-interval-ms']);
  if (values['metrics-port']) section(raw, 'metrics').port = numeric(values['metrics-port']);
  if (values['retention-days']) raw.retention_days = numeric(values['retention-days']);

  const result = shipperConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(`invalid shipper configuration: ${describeIssues(result.error.issues)}`);
  const config = result.data;
  config.logs = resolve(config.logs);
  config.state = resolve(config.state);
  return config;
}
