// Finds a JDK that can run the local node: the newest one at version 21 or later, which both
// Elasticsearch 8 and OpenSearch 3 need.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProxyAccessLogError } from '../../common/errors.ts';
import type { EngineDistribution } from './engines.ts';

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

/** The engine's own variable (ES_JAVA_HOME, OPENSEARCH_JAVA_HOME) or JAVA_HOME when new enough, else the newest JDK under the usual roots. */
export function findJavaHome(distribution: EngineDistribution, env: NodeJS.ProcessEnv = process.env): string {
  const variable = distribution.variables.javaHome;
  const explicit = [env[variable], env.JAVA_HOME].filter((home): home is string => Boolean(home));
  const candidates = [...explicit];
  for (const root of JVM_ROOTS) {
    if (!existsSync(root)) continue;
    for (const entry of readdirSync(root)) candidates.push(join(root, entry));
  }
  let best: { home: string; major: number } | undefined;
  for (const home of candidates) {
    const major = javaMajor(home);
    if (major === undefined || major < MINIMUM_JAVA_MAJOR) continue;
    if (explicit.includes(home)) return home;
    if (!best || major > best.major) best = { home, major };
  }
  if (!best) {
    throw new JavaNotFoundError(
      `no JDK ${MINIMUM_JAVA_MAJOR} or newer found (looked at ${variable}, JAVA_HOME and ${JVM_ROOTS.join(', ')}); ` +
        `install one, e.g. apt-get install openjdk-21-jdk-headless, or set ${variable}`,
    );
  }
  return best.home;
}
