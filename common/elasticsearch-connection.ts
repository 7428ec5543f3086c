// How every process reaches Elasticsearch: one URL plus optional credentials and CA,
// from a config section or from ELASTICSEARCH_* environment variables.

import { readFileSync } from 'node:fs';
import { Client, type ClientOptions } from '@elastic/elasticsearch';
import { z } from 'zod';
import { validateConfig } from './config.ts';

export const elasticsearchConnectionSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    api_key: z.string().min(1).optional(),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    ca_file: z.string().min(1).optional(),
    request_timeout_ms: z.number().int().positive().default(10_000),
  })
  .strict()
  .refine((c) => (c.username === undefined) === (c.password === undefined), {
    message: 'username and password go together',
    path: ['password'],
  });

export type ElasticsearchConnection = z.infer<typeof elasticsearchConnectionSchema>;

/**
 * The connection described by ELASTICSEARCH_URL and friends, or undefined when no URL is set; a bad
 * value is a ConfigError naming its `elasticsearch.*` key and `source`.
 */
export function connectionFromEnv(env: NodeJS.ProcessEnv = process.env, source = 'ELASTICSEARCH_* environment'): ElasticsearchConnection | undefined {
  if (!env.ELASTICSEARCH_URL) return undefined;
  const raw = {
    url: env.ELASTICSEARCH_URL,
    api_key: env.ELASTICSEARCH_API_KEY || undefined,
    username: env.ELASTICSEARCH_USERNAME || undefined,
    password: env.ELASTICSEARCH_PASSWORD || undefined,
    ca_file: env.ELASTICSEARCH_CA_FILE || undefined,
  };
  return validateConfig(elasticsearchConnectionSchema, raw, source, ['elasticsearch']);
}

export function createElasticsearchClient(
  connection: ElasticsearchConnection,
  overrides: Partial<ClientOptions> = {},
): Client {
  const options: ClientOptions = {
    node: connection.url,
    requestTimeout: connection.request_timeout_ms,
    maxRetries: 0,
    ...overrides,
  };
  if (connection.api_key) options.auth = { apiKey: connection.api_key };
  else if (connection.username && connection.password) {
    options.auth = { username: connection.username, password: connection.password };
  }
  if (connection.ca_file) options.tls = { ca: readFileSync(connection.ca_file) };
  return new Client(options);
}
