// The API's configuration file (JSON), validated with zod: a bad file names the offending key.

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  connectionFromEnv,
  elasticsearchConnectionSchema,
  type ElasticsearchConnection,
} from '../common/elasticsearch-connection.ts';
import { DEFAULT_INDEX_PREFIX } from '../common/proxy-event-document.ts';

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

const originSchema = z
  .string()
  .refine((value) => URL.canParse(value) && new URL(value).origin === value, 'must be an origin such as https://logs.example.com');

export const apiConfigSchema = z
  .object({
    listen: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65_535).default(8082),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8082 }),
    /** Where to read events; ELASTICSEARCH_URL and friends when absent. */
    elasticsearch: elasticsearchConnectionSchema.optional(),
    /** Daily indices `<index_prefix>-YYYY.MM.DD`, as the shipper writes them. */
    index_prefix: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'must be a lower-case index name prefix').default(DEFAULT_INDEX_PREFIX),
    /** API tokens by name, each stored as the SHA-256 hex digest `node api/hash-token.ts` prints. */
    tokens: z
      .array(z.object({ name: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a 64-digit lower-case hex SHA-256 digest') }).strict())
      .min(1, 'must list at least one token'),
    cors: z.object({ origins: z.array(originSchema).default([]) }).strict().default({ origins: [] }),
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

export type ApiConfig = z.infer<typeof apiConfigSchema> & { elasticsearch: ElasticsearchConnection };

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${[...issue.path, key].join('.')}: unknown key`).join('; ');
  return `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`;
}

export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const result = apiConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(`invalid configuration: ${result.error.issues.map(describe).join('; ')}`);
  let elasticsearch: ElasticsearchConnection | undefined;
  try {
    elasticsearch = result.data.elasticsearch ?? connectionFromEnv(env);
  } catch (error) {
    throw new ConfigError(`invalid configuration: ELASTICSEARCH_* environment: ${(error as Error).message}`);
  }
  if (!elasticsearch) throw new ConfigError('invalid configuration: elasticsearch: required (or set ELASTICSEARCH_URL)');
  return { ...result.data, elasticsearch };
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): ApiConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read configuration ${file}: ${(error as Error).message}`);
  }
  return parseConfig(raw, env);
}
