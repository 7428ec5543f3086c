// Finds a JDK that can run Elasticsearch: the newest one at version 21 or later.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProxyAccessLogError } from '../../common/errors.ts';

const MINIMUM_JAVA_MAJOR = 21;
const JVM_ROOTS = ['/usr/lib/jvm', '/usr/local/lib/jvm', '/opt/java'];

export class JavaNotFoundError extends ProxyAccessLogError {
  readonly code = 'ES_JAVA_NOT_FOUND';
}

function javaMajor(home: string): number | undefined {
  if (!existsSync(join(home, 'bin', 'java'))) return undefined;
  const release = join(home, 'release');
  if (!existsSync(release)) return undefined;
  const match = /^JAVA_VERSION="(\d+)/m.exec(readFileSync(release, 'utf8'));
  return match ? Number(match[1]) : undefined;
}

/** ES_JAVA_HOME or JAVA_HOME when new enough, else the newest JDK under the usual roots. */
export function findJavaHome(env: NodeJS.ProcessEnv = process.env): string {
  const candidates: string[] = [];
  for (const explicit of [env.ES_JAVA_HOME, env.JAVA_HOME]) if (explicit) candidates.push(explicit);
  for (const root of JVM_ROOTS) {
    if (!existsSync(root)) continue;
    for (const entry of readdirSync(root)) candidates.push(join(root, entry));
  }
  let best: { home: string; major: number } | undefined;
  for (const home of candidates) {
    const major = javaMajor(home);
    if (major === undefined || major < MINIMUM_JAVA_MAJOR) continue;
    if (home === env.ES_JAVA_HOME || home === env.JAVA_HOME) return home;
    if (!best || major > best.major) best = { home, major };
  }
  if (!best) {
    throw new JavaNotFoundError(
      `no JDK ${MINIMUM_JAVA_MAJOR} or newer found (looked at ES_JAVA_HOME, JAVA_HOME and ${JVM_ROOTS.join(', ')}); ` +
        'install one, e.g. apt-get install openjdk-21-jdk-headless, or set ES_JAVA_HOME',
    );
  }
  return best.home;
}
