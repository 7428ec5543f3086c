// The shipper's configuration: a JSON file (--config), command-line flags that override it, and the
// ELASTICSEARCH_* environment for the cluster when neither names one. Validated with zod; a bad
// value is reported by its key.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { z } from 'zod';
import { indexPrefixSchema, listenHostSchema, portSchema, readConfigFile, validateConfig, type ConfigObject } from '../common/config.ts';
import { connectionFromEnv, elasticsearchConnectionSchema } from '../common/elasticsearch-connection.ts';
import { ConfigError } from '../common/errors.ts';

const positiveInt = z.number().int().positive();

/** Bulk requests in flight by default (`batch.max_in_flight`), and the most accepted: each holds a batch in memory. */
export const DEFAULT_BULKS_IN_FLIGHT = 2;
const MAX_BULKS_IN_FLIGHT = 16;

const MIB = 1024 * 1024;
/** The heap the shipper needs besides its batches: loaded code (some 27 MiB), the geo memo when full, the outputs' state. */
const HEAP_BESIDES_BATCHES = 48 * MIB;
/**
 * Batches held at once (those in flight, the one being filled, the one being settled), each
 * taking about twice its bytes: the lines' text and the operations made of them.
 */
function heapForBatches(maxInFlight: number, maxBytes: number): number {
  return HEAP_BESIDES_BATCHES + (maxInFlight + 2) * maxBytes * 2;
}

/**
 * A file named in the configuration, read at load so that a missing or unreadable one is reported
 * under its key like any bad value. `trim` for a secret (a token file ends with a newline).
 */
function fileContentSchema(trim: boolean) {
  return z
    .string()
    .min(1)
    .transform((file, ctx) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` });
        return z.NEVER;
      }
      if (trim) text = text.trim();
      if (text === '') ctx.addIssue({ code: 'custom', message: `${file} is empty` });
      return { file, text };
    });
}

const outputTlsSchema = z
  .object({
    /** PEM of the CA(s) that signed the receiver's certificate; the system's CAs when absent. */
    ca_file: fileContentSchema(false).optional(),
    /** The name the receiver's certificate must carry, when it is not the host connected to. */
    server_name: z.string().min(1).optional(),
  })
  .strict();

const outputCommon = {
  /** Names the output's checkpoint, its log lines and its metrics. */
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, _ and -, at most 63'),
  batch: z
    .object({
      max_lines: positiveInt.default(1_000),
      max_bytes: positiveInt.default(1024 * 1024),
      flush_interval_ms: positiveInt.default(1_000),
    })
    .strict()
    .prefault({}),
  /** One delivery attempt (connect, send, confirmation) is given up after this long and retried. */
  timeout_ms: positiveInt.default(10_000),
};

export const syslogOutputSchema = z
  .object({
    ...outputCommon,
    type: z.literal('syslog'),
    host: z.string().min(1),
    port: portSchema.refine((port) => port > 0, 'must be a port number from 1'),
    transport: z.enum(['tcp', 'tls']).default('tcp'),
    tls: outputTlsSchema.optional(),
    /** `structured`: the record's fields as RFC 5424 structured data; `json`: the document as the message. */
    format: z.enum(['structured', 'json']).default('structured'),
    /** RFC 5424 facility code: 16 is local0. */
    facility: z.number().int().min(0).max(23).default(16),
  })
  .strict();

export const httpOutputSchema = z
  .object({
    ...outputCommon,
    type: z.literal('http'),
    url: z.url({ protocol: /^https?$/ }),
    /** `ndjson`: one document a line; `hec`: Splunk HTTP Event Collector events. */
    format: z.enum(['ndjson', 'hec']).default('ndjson'),
    /** Sent as `Authorization: Splunk <token>` (hec) or `Bearer <token>` (ndjson). */
    token_file: fileContentSchema(true).optional(),
    tls: outputTlsSchema.pick({ ca_file: true }).optional(),
  })
  .strict()
  .superRefine((output, ctx) => {
    if (output.format === 'hec' && output.token_file === undefined) ctx.addIssue({ code: 'custom', path: ['token_file'], message: 'required for format "hec"' });
  });

const outputSchema = z.discriminatedUnion('type', [syslogOutputSchema, httpOutputSchema]);

export const shipperConfigSchema = z
  .object({
    /** The proxy's log directory, holding access.<N>.log. */
    logs: z.string().min(1),
    /** Where the checkpoint and the dead-letter file live. */
    state: z.string().min(1),
    elasticsearch: elasticsearchConnectionSchema,
    index_prefix: indexPrefixSchema,
    batch: z
      .object({
        max_lines: positiveInt.default(5_000),
        max_bytes: positiveInt.default(5 * 1024 * 1024),
        /** Longest a line waits for its batch to fill, counted from the batch's first line. */
        flush_interval_ms: positiveInt.default(500),
        /**
         * Bulk requests out at once. Two keep a node busy while it answers one (a bulk into one
         * shard runs on one write thread) and the next batch is filled and sent meanwhile.
         */
        max_in_flight: positiveInt.max(MAX_BULKS_IN_FLIGHT).default(DEFAULT_BULKS_IN_FLIGHT),
      })
      .strict()
      .prefault({})
      // The shipper runs with a capped heap (shipper/node-flags.ts): batches that do not fit in it
      // would stop it with an out-of-memory crash at every start. Refused here instead, by name.
      .superRefine((batch, ctx) => {
        const needed = heapForBatches(batch.max_in_flight, batch.max_bytes);
        const limit = getHeapStatistics().heap_size_limit;
        if (needed <= limit) return;
        ctx.addIssue({
          code: 'custom',
          path: ['max_in_flight'],
          message: `${batch.max_in_flight} batches in flight of batch.max_bytes ${batch.max_bytes} need some ${Math.ceil(needed / MIB)} MiB of heap, over this process's ${Math.floor(limit / MIB)} MiB: lower them, or raise --max-old-space-size where the shipper starts`,
        });
      }),
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
        port: portSchema.optional(),
        host: listenHostSchema.default('127.0.0.1'),
      })
      .strict()
      .prefault({}),
    geo: z
      .object({
        /**
         * A MaxMind DB City or Country file (GeoLite2-City, GeoIP2-City, DB-IP City Lite) to locate
         * source addresses with; geoip-lite's bundled data when absent.
         */
        database_file: z.string().min(1).optional(),
      })
      .strict()
      .prefault({}),
    /** When set, daily indices older than this many days are deleted at start and then daily. */
    retention_days: positiveInt.optional(),
    /** SIEM outputs besides Elasticsearch, each with its own checkpoint (shipper/outputs/). */
    outputs: z
      .array(outputSchema)
      .default([])
      .superRefine((outputs, ctx) => {
        const seen = new Set<string>();
        outputs.forEach((output, index) => {
          if (seen.has(output.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `"${output.name}" is used by another output` });
          seen.add(output.name);
        });
      }),
  })
  .strict();

export type ShipperConfig = z.infer<typeof shipperConfigSchema>;
export type OutputConfig = z.infer<typeof outputSchema>;
export type SyslogOutputConfig = z.infer<typeof syslogOutputSchema>;
export type HttpOutputConfig = z.infer<typeof httpOutputSchema>;

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

function section(raw: ConfigObject, key: string): ConfigObject {
  const value = raw[key];
  if (value === undefined) return (raw[key] = {});
  if (typeof value !== 'object' || value === null) return {};
  return value as ConfigObject;
}

/** A numeric flag: kept as its text when it is not a number, so the schema names the bad key. */
function numeric(text: string): number | string {
  return /^\d+$/.test(text) ? Number(text) : text;
}

/** Relative paths from the file are taken from its folder, those from flags from the working directory. */
function resolvePaths(raw: ConfigObject, dir: string): void {
  for (const key of ['logs', 'state'] as const) if (typeof raw[key] === 'string') raw[key] = resolve(dir, raw[key]);
  const elasticsearch = raw.elasticsearch as ConfigObject | undefined;
  if (typeof elasticsearch?.ca_file === 'string') elasticsearch.ca_file = resolve(dir, elasticsearch.ca_file);
  const geo = raw.geo as ConfigObject | undefined;
  if (typeof geo?.database_file === 'string') geo.database_file = resolve(dir, geo.database_file);
  if (!Array.isArray(raw.outputs)) return;
  for (const entry of raw.outputs as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const output = entry as ConfigObject & { tls?: ConfigObject };
    const { tls } = output;
    if (typeof output.token_file === 'string') output.token_file = resolve(dir, output.token_file);
    if (typeof tls === 'object' && tls !== null && typeof tls.ca_file === 'string') tls.ca_file = resolve(dir, tls.ca_file);
  }
}

/** The configuration from argv (without node and script) and the environment. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): ShipperConfig {
  let values: Partial<Record<keyof typeof FLAGS, string>>;
  try {
    ({ values } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new ConfigError((error as Error).message, { cause: error });
  }
  const raw: ConfigObject = {};
  if (values.config) {
    const file = readConfigFile(values.config);
    Object.assign(raw, file.json);
    resolvePaths(raw, file.dir);
  }
  if (values.logs) raw.logs = values.logs;
  if (values.state) raw.state = values.state;
  if (values['index-prefix']) raw.index_prefix = values['index-prefix'];
  if (values.elasticsearch !== undefined) {
    raw.elasticsearch = connectionFromEnv({ ...env, ELASTICSEARCH_URL: values.elasticsearch }, '--elasticsearch and ELASTICSEARCH_* environment');
  } else if (raw.elasticsearch === undefined) {
    const connection = connectionFromEnv(env);
    if (connection) raw.elasticsearch = connection;
  }
  if (values['batch-lines']) section(raw, 'batch').max_lines = numeric(values['batch-lines']);
  if (values['batch-bytes']) section(raw, 'batch').max_bytes = numeric(values['batch-bytes']);
  if (values['flush-interval-ms']) section(raw, 'batch').flush_interval_ms = numeric(values['flush-interval-ms']);
  if (values['poll-interval-ms']) raw.poll_interval_ms = numeric(values['poll-interval-ms']);
  if (values['metrics-interval-ms']) section(raw, 'metrics').interval_ms = numeric(values['metrics-interval-ms']);
  if (values['metrics-port']) section(raw, 'metrics').port = numeric(values['metrics-port']);
  if (values['retention-days']) raw.retention_days = numeric(values['retention-days']);

  const config = validateConfig(shipperConfigSchema, raw, values.config ?? 'command line');
  config.logs = resolve(config.logs);
  config.state = resolve(config.state);
  return config;
}
