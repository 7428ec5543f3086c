// Fetches an engine's minimal distribution from Maven Central once and unpacks it into a
// git-ignored cache folder, shared by both engines. Maven is how these machines reach it; the zip
// also stays in ~/.m2.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ProxyAccessLogError } from '../../common/errors.ts';
import type { EngineDistribution } from './engines.ts';

const run = promisify(execFile);

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const CACHE_DIR = process.env.ELASTICSEARCH_CACHE_DIR ?? join(REPO_ROOT, '.cache', 'elasticsearch');

export class DistributionFetchError extends ProxyAccessLogError {
  readonly code = 'ES_DISTRIBUTION_FETCH_FAILED';
}

/** The unpacked distribution's home folder, fetching and unpacking it on first use. */
export async function ensureDistribution(distribution: EngineDistribution, log: (line: string) => void = () => {}): Promise<string> {
  const home = join(CACHE_DIR, distribution.folder);
  if (existsSync(join(home, 'bin', distribution.launcher))) return home;

  await mkdir(CACHE_DIR, { recursive: true });
  const zip = join(CACHE_DIR, `${distribution.folder}.zip`);
  if (!existsSync(zip)) {
    log(`fetching ${distribution.artifact} with Maven (once)`);
    try {
      await run('mvn', ['-B', '-q', 'dependency:copy', `-Dartifact=${distribution.artifact}`, `-DoutputDirectory=${CACHE_DIR}`], {
        cwd: CACHE_DIR,
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      const output = `${stdout}${stderr}` || String(error);
      throw new DistributionFetchError(`could not fetch ${distribution.artifact} with mvn: ${output.slice(-2000)}`);
    }
  }
  log(`unpacking ${zip}`);
  const staging = `${home}.partial`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await run('unzip', ['-q', zip, '-d', staging], { maxBuffer: 16 * 1024 * 1024 });
  // Unpack beside the final place and rename, so an interrupted unpack is never mistaken for a good one.
  await rename(join(staging, distribution.folder), home);
  await rm(staging, { recursive: true, force: true });
  return home;
}
