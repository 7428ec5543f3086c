// Fetches Elasticsearch's minimal distribution from Maven Central once and unpacks it into a
// git-ignored cache folder. Maven is how these machines reach it; the zip also stays in ~/.m2.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ProxyAccessLogError } from '../../common/errors.ts';

const run = promisify(execFile);

/**
 * The newest version Maven Central serves as `integ-test-zip` (no 9.x is published there), so the
 * project uses the 8.x line of the client too.
 */
export const ELASTICSEARCH_VERSION = '8.19.21';
const MAVEN_ARTIFACT = `org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ELASTICSEARCH_VERSION}:zip`;

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const CACHE_DIR = process.env.ELASTICSEARCH_CACHE_DIR ?? join(REPO_ROOT, '.cache', 'elasticsearch');

export class DistributionFetchError extends ProxyAccessLogError {
  readonly code = 'ES_DISTRIBUTION_FETCH_FAILED';
}

/** The unpacked distribution's home folder, fetching and unpacking it on first use. */
export async function ensureDistribution(log: (line: string) => void = () => {}): Promise<string> {
  const home = join(CACHE_DIR, `elasticsearch-${ELASTICSEARCH_VERSION}`);
  if (existsSync(join(home, 'bin', 'elasticsearch'))) return home;

  await mkdir(CACHE_DIR, { recursive: true });
  const zip = join(CACHE_DIR, `elasticsearch-${ELASTICSEARCH_VERSION}.zip`);
  if (!existsSync(zip)) {
    log(`fetching ${MAVEN_ARTIFACT} with Maven (once)`);
    try {
      await run('mvn', ['-B', '-q', 'dependency:copy', `-Dartifact=${MAVEN_ARTIFACT}`, `-DoutputDirectory=${CACHE_DIR}`], {
        cwd: CACHE_DIR,
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      const output = `${stdout}${stderr}` || String(error);
      throw new DistributionFetchError(`could not fetch ${MAVEN_ARTIFACT} with mvn: ${output.slice(-2000)}`);
    }
  }
  log(`unpacking ${zip}`);
  const staging = `${home}.partial`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await run('unzip', ['-q', zip, '-d', staging], { maxBuffer: 16 * 1024 * 1024 });
  // Unpack beside the final place and rename, so an interrupted unpack is never mistaken for a good one.
  await rename(join(staging, `elasticsearch-${ELASTICSEARCH_VERSION}`), home);
  await rm(staging, { recursive: true, force: true });
  return home;
}
