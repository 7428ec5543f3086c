// Who the local node runs as, and where its files live so that user can reach them. Elasticsearch
// refuses to run as root: a root caller gets a dedicated system user, and since the checkout may
// sit in a directory that user cannot traverse (a 0700 home), the node's files then live under a
// directory the project creates for it. A caller who is not root runs the node as themselves.

import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { chown, mkdir, readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';

export const SERVICE_USER = 'elasticsearch';
/** As root, every file of a local node lives below here: created by the project, owned by root, 0755. */
export const ROOT_STATE_DIR = '/var/lib/proxy-access-log';

export interface RunAs {
  user: string;
  uid: number;
  gid: number;
}

/** As root, the unprivileged system user the node runs as (created on first use); otherwise none. */
export function serviceUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = () => spawnSync('id', ['-u', SERVICE_USER], { encoding: 'utf8' });
  if (lookup().status !== 0) {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVICE_USER]);
  }
  const uid = Number(lookup().stdout.trim());
  const gid = Number(execFileSync('id', ['-g', SERVICE_USER], { encoding: 'utf8' }).trim());
  return { user: SERVICE_USER, uid, gid };
}

/** Whether `runAs` may use `path` (test -r, -w or -x as that user). */
export function canAccess(path: string, access: 'r' | 'w' | 'x', runAs: RunAs): boolean {
  return spawnSync('test', [`-${access}`, path], { uid: runAs.uid, gid: runAs.gid }).status === 0;
}

/**
 * Where the node keeps data that should outlive it, for a caller whose own place for it is
 * `preferred`: that place itself, or, as root, a folder under ROOT_STATE_DIR named after it (so
 * each checkout keeps its own data), since the service user may not be able to reach `preferred`.
 */
export function persistentDataDir(preferred: string, runAs: RunAs | undefined): string {
  if (!runAs) return preferred;
  const absolute = resolve(preferred);
  const key = createHash('sha256').update(absolute).digest('hex').slice(0, 12);
  return join(ROOT_STATE_DIR, 'data', key, basename(absolute));
}

/** A folder under ROOT_STATE_DIR (each missing level created 0755, owned by root). */
export async function rootStateDir(...parts: string[]): Promise<string> {
  const dir = join(ROOT_STATE_DIR, ...parts);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  return dir;
}

/** Hands a folder the project created, and all below it, to the node's user. */
export async function chownTree(path: string, runAs: RunAs): Promise<void> {
  await chown(path, runAs.uid, runAs.gid);
  for (const entry of await readdir(path, { withFileTypes: true, recursive: true })) {
    await chown(join(entry.parentPath, entry.name), runAs.uid, runAs.gid);
  }
}
