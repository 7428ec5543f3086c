// How every process loads its JSON configuration: the file is read and parsed, the result validated
// with the process's zod schema, each problem printed on its own line as `key.path[index]: message`,
// and relative paths in the file taken from the file's own folder (so a configuration means the same
// from any working directory). A bad configuration is a ConfigError, which main modules turn into
// the message on stderr and exit 1.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.ts';
import { DEFAULT_INDEX_PREFIX } from './proxy-event-document.ts';

export type ConfigObject = Record<string, unknown>;

/** A key path as users write it: `services[1].auth.hash`. */
export function keyPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) text += typeof key === 'number' ? `[${key}]` : text === '' ? String(key) : `.${String(key)}`;
  return text === '' ? '(top level)' : text;
}

function issueLines(issue: z.core.$ZodIssue, under: readonly PropertyKey[]): string[] {
  const path = [...under, ...issue.path];
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${keyPath([...path, key])}: unknown key`);
  return [`${keyPath(path)}: ${issue.message}`];
}

/**
 * Validates `raw` against `schema`. `source` says where the values came from (a file name, the
 * command line, the environment); `under` is the key path `raw` sits at in the whole configuration.
 */
export function validateConfig<Schema extends z.ZodType>(schema: Schema, raw: unknown, source: string, under: readonly PropertyKey[] = []): z.output<Schema> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  throw invalidConfig(source, result.error.issues.flatMap((issue) => issueLines(issue, under)));
}

/** The error for problems found outside a schema, printed as the schema's are: one `key: problem` a line. */
export function invalidConfig(source: string, problems: string[]): ConfigError {
  return new ConfigError(`invalid configuration (${source}):\n${problems.map((line) => `  ${line}`).join('\n')}`);
}

export interface ConfigFile {
  /** The file's top-level JSON object. */
  json: ConfigObject;
  /** The folder relative paths in the file are resolved against. */
  dir: string;
}

export function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read configuration file ${file}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`configuration file ${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError(`configuration file ${file} is not valid JSON: not an object`);
  return { json: json as ConfigObject, dir: dirname(resolve(file)) };
}

/**
 * A secret kept in a file of its own (so the configuration can be committed without it), read
 * once at start with surrounding whitespace trimmed. An unreadable or empty file is a ConfigError
 * naming `key`, the configuration key that named the file.
 */
export function readSecretFile(file: string, key: readonly PropertyKey[], source: string): string {
  let secret: string;
  try {
    secret = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw invalidConfig(source, [`${keyPath(key)}: cannot read ${file}: ${(error as Error).message}`]);
  }
  if (secret === '') throw invalidConfig(source, [`${keyPath(key)}: ${file} is empty`]);
  return secret;
}

/** Runs `load`; a ConfigError ends the process with exit code 1 and the message, prefixed by `processName`, on stderr. */
export function loadOrExit<T>(processName: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${processName}: ${error.message}\n`);
    process.exit(1);
  }
}

/** The address a server listens on: an IP address, never a name that might resolve elsewhere. */
export const listenHostSchema = z.string().refine((host) => isIP(host) !== 0, 'must be an IP address');

export const portSchema = z.number().int().min(0).max(65_535);

/** Daily indices are `<prefix>-YYYY.MM.DD`: lower-case, as Elasticsearch requires of index names. */
export const indexPrefixSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'lower-case letters, digits, _ . - (an index name prefix)')
  .default(DEFAULT_INDEX_PREFIX);
