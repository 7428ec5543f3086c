// The API's configuration file (JSON), validated with zod: a bad file names the offending key.

import { resolve } from 'node:path';
import { z } from 'zod';
import { indexPrefixSchema, invalidConfig, listenHostSchema, portSchema, readConfigFile, validateConfig } from '../common/config.ts';
import {
  connectionFromEnv,
  elasticsearchConnectionSchema,
  type ElasticsearchConnection,
} from '../common/elasticsearch-connection.ts';
import { alertsConfigSchema } from './alerts/config.ts';
import { insightsConfigSchema } from './insights/config.ts';

const originSchema = z
  .string()
  .refine((value) => URL.canParse(value) && new URL(value).origin === value, 'must be an origin such as https://logs.example.com');

export const apiConfigSchema = z
  .object({
    listen: z
      .object({
        host: listenHostSchema.default('127.0.0.1'),
        port: portSchema.default(8082),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8082 }),
    /** Where to read events; ELASTICSEARCH_URL and friends when absent. */
    elasticsearch: elasticsearchConnectionSchema.optional(),
    /** Daily indices `<index_prefix>-YYYY.MM.DD`, as the shipper writes them. */
    index_prefix: indexPrefixSchema,
    /** API tokens by name, each stored as the SHA-256 hex digest `node api/hash-token.ts` prints. */
    tokens: z
      .array(z.object({ name: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a 64-digit lower-case hex SHA-256 digest') }).strict())
      .min(1, 'must list at least one token'),
    /** Prometheus metrics at http://host:port/metrics, on a listener of their own; off when absent. */
    metrics: z.object({ host: listenHostSchema.default('127.0.0.1'), port: portSchema }).strict().optional(),
    cors: z.object({ origins: z.array(originSchema).default([]) }).strict().default({ origins: [] }),
    /** The detectors of GET /api/events/proxy/insights (api/insights/config.ts). */
    insights: insightsConfigSchema.prefault({}),
    /** Webhooks for new findings, sent by `npm run alerts` (api/alerts/). */
    alerts: alertsConfigSchema.optional(),
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

export type ApiConfig = z.infer<typeof apiConfigSchema> & { elasticsearch: ElasticsearchConnection };

/** Validates parsed JSON from `source`; a relative `elasticsearch.ca_file` is resolved against `baseDir`. */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env, baseDir = process.cwd(), source = 'api'): ApiConfig {
  const config = validateConfig(apiConfigSchema, raw, source);
  if (config.elasticsearch?.ca_file) config.elasticsearch.ca_file = resolve(baseDir, config.elasticsearch.ca_file);
  if (config.alerts) {
    config.alerts.state_file = resolve(baseDir, config.alerts.state_file);
    for (const hook of config.alerts.webhooks) hook.secret_file = resolve(baseDir, hook.secret_file);
  }
  const elasticsearch = config.elasticsearch ?? connectionFromEnv(env);
  if (!elasticsearch) throw invalidConfig(source, ['elasticsearch: required (or set ELASTICSEARCH_URL)']);
  return { ...config, elasticsearch };
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const { json, dir } = readConfigFile(file);
  return parseConfig(json, env, dir, file);
}
