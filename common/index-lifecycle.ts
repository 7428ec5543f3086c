// The life of the daily indices: the index template installed before anything is written, and
// retention, which deletes whole daily indices once they are older than the configured days.
// The shipper, the API and `npm start` import this; ops/retention/main.ts is its command line.

import { answeredWith, type Storage } from './storage/storage.ts';
import { dailyIndexName, dayOfDailyIndex, indexPattern, indexTemplate, TEMPLATE_MANAGER, trailIndexPrefix } from './proxy-event-document.ts';
import { ProxyAccessLogError } from './errors.ts';

const DAY_MS = 86_400_000;
/** Index names per delete request, so the URL stays short. */
const DELETE_BATCH = 50;

/** 400: a field of the template is mapped with another type in an existing index. */
function mappingConflict(error: unknown): boolean {
  return answeredWith(error, 400);
}

/**
 * Creates or replaces the template, and adds the fields it maps to the daily indices that exist
 * already (today's and tomorrow's are created ahead of time, so a field added by an upgrade would
 * otherwise stay unsearchable there for up to two days). Running it again changes nothing. An
 * index that maps one of those fields otherwise (made by hand, or by an old version) keeps its
 * mapping: its name is returned, and events written there are refused and dead-lettered as before.
 */
export async function installIndexTemplate(storage: Storage, prefix: string): Promise<string[]> {
  const template = indexTemplate(prefix);
  await storage.putIndexTemplate(template);
  const { properties } = template.template.mappings;
  try {
    await storage.putMapping(indexPattern(prefix), properties);
    return [];
  } catch (error) {
    if (!mappingConflict(error)) throw error;
  }
  // An index refused, so none was updated: one at a time, the others take the fields and the refusing ones are named.
  const conflicting: string[] = [];
  for (const index of await storage.mappedIndices(indexPattern(prefix))) {
    try {
      await storage.putMapping(index, properties);
    } catch (error) {
      if (!mappingConflict(error)) throw error;
      conflicting.push(index);
    }
  }
  return conflicting;
}

/**
 * Creates today's and tomorrow's daily indices (UTC) ahead of their first event. An index created
 * by the first bulk write is searchable only once its shard has started, and a search that meets
 * it in between fails; created a day early, that moment passes while nobody reads the index.
 */
export async function createUpcomingIndices(storage: Storage, prefix: string, now: Date = new Date()): Promise<string[]> {
  const names = [dailyIndexName(prefix, now), dailyIndexName(prefix, new Date(now.getTime() + DAY_MS))];
  for (const index of names) await storage.createIndex(index);
  return names;
}

export interface RetentionOptions {
  prefix: string;
  /** Whole UTC days kept before today: with 7, today and the 7 days before it stay. */
  days: number;
  dryRun?: boolean;
  now?: Date;
}

export interface RetentionPlan {
  /** Indices to delete, oldest first. */
  expired: string[];
  /** Daily indices of the prefix that stay. */
  kept: string[];
  /** The first UTC day kept. */
  cutoff: Date;
}

export interface RetentionResult extends RetentionPlan {
  dryRun: boolean;
}

export class RetentionOptionsError extends ProxyAccessLogError {
  readonly code = 'RETENTION_OPTIONS_INVALID';
}

/** The first UTC day still kept when `days` whole days before today are kept. */
export function retentionCutoff(days: number, now: Date): Date {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(today - days * DAY_MS);
}

/**
 * The daily indices of `prefix` whose day is before the cutoff: events and trail checkpoints alike,
 * so a deleted day leaves no checkpoint behind that would point at its missing events. Only names
 * that are exactly `<prefix>-YYYY.MM.DD` or `<prefix>.trail-YYYY.MM.DD` are considered, so another
 * prefix that starts with this one is never touched.
 */
export async function planRetention(storage: Storage, options: RetentionOptions): Promise<RetentionPlan> {
  if (!Number.isInteger(options.days) || options.days < 1) {
    throw new RetentionOptionsError(`days must be a whole number of at least 1, got ${options.days}`);
  }
  const cutoff = retentionCutoff(options.days, options.now ?? new Date());
  // Resolving names needs only view_index_metadata on the prefix; listing with _cat needs cluster monitor.
  const prefixes = [options.prefix, trailIndexPrefix(options.prefix)];
  const indices = await storage.resolveIndices(prefixes.map(indexPattern));
  const dayOf = (name: string) => prefixes.map((prefix) => dayOfDailyIndex(prefix, name)).find((day) => day !== undefined);
  const daily = indices
    .filter((name) => dayOf(name) !== undefined)
    .sort((a, b) => dayOf(a)!.getTime() - dayOf(b)!.getTime() || a.localeCompare(b));
  const expired = daily.filter((name) => dayOf(name)! < cutoff);
  const kept = daily.filter((name) => !expired.includes(name));
  return { expired, kept, cutoff };
}

export async function deleteIndices(storage: Storage, names: readonly string[]): Promise<void> {
  for (let i = 0; i < names.length; i += DELETE_BATCH) await storage.deleteIndices(names.slice(i, i + DELETE_BATCH));
}

/** Deletes what planRetention finds, unless `dryRun`. */
export async function applyRetention(storage: Storage, options: RetentionOptions): Promise<RetentionResult> {
  const plan = await planRetention(storage, options);
  const dryRun = options.dryRun ?? false;
  if (!dryRun) await deleteIndices(storage, plan.expired);
  return { ...plan, dryRun };
}

export interface ProjectTemplate {
  name: string;
  prefix: string;
}

/** The index templates this project installed on the cluster (marked `_meta.managed_by`), by name. */
export async function projectTemplates(storage: Storage): Promise<ProjectTemplate[]> {
  return (await storage.indexTemplates())
    .filter(({ meta }) => meta?.managed_by === TEMPLATE_MANAGER && typeof meta.index_prefix === 'string')
    .map(({ name, meta }) => ({ name, prefix: meta!.index_prefix as string }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
