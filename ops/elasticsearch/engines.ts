// What differs between the engines a local node runs: where each one's minimal distribution comes
// from, what its launcher is called and reads, the settings it accepts and where its JVM writes.
// Everything else about starting a node (local-node.ts) is the same for both.

import { ENGINE_NAMES, type Engine } from '../../common/search-engine.ts';

/**
 * The newest version Maven Central serves as `integ-test-zip` (no 9.x is published there), so the
 * project uses the 8.x line of the client too.
 */
export const ELASTICSEARCH_VERSION = '8.19.21';
/** The newest 3.x Maven Central serves as `integ-test-zip`. */
export const OPENSEARCH_VERSION = '3.6.0';

export interface EngineDistribution {
  engine: Engine;
  name: string;
  version: string;
  /** Maven coordinates of the integ-test zip: the distribution with its modules and no plugins. */
  artifact: string;
  /** The folder the zip unpacks to, also its name in the cache. */
  folder: string;
  /** The launcher in `bin/`. */
  launcher: string;
  /** The settings file in the config folder. */
  settingsFile: string;
  /** The variables the launcher reads for the JDK, the config folder and the temporary folder. */
  variables: { javaHome: string; pathConf: string; tmpDir: string };
  /** Variables the launcher would take from the caller and must not: extra JVM options, another home. */
  ignoredVariables: string[];
  /** Settings of a single node with security off. */
  securityOff: Record<string, string>;
  /** The stock `jvm.options` as a run uses it, given the run's logs folder. */
  jvmOptions(stock: string, logsDir: string): string;
}

function distribution(engine: Engine, group: string, version: string): Pick<EngineDistribution, 'engine' | 'name' | 'version' | 'artifact' | 'folder' | 'launcher'> {
  return {
    engine,
    name: ENGINE_NAMES[engine],
    version,
    artifact: `${group}.distribution.integ-test-zip:${engine}:${version}:zip`,
    folder: `${engine}-${version}`,
    launcher: engine,
  };
}

export const DISTRIBUTIONS: Record<Engine, EngineDistribution> = {
  elasticsearch: {
    ...distribution('elasticsearch', 'org.elasticsearch', ELASTICSEARCH_VERSION),
    settingsFile: 'elasticsearch.yml',
    variables: { javaHome: 'ES_JAVA_HOME', pathConf: 'ES_PATH_CONF', tmpDir: 'ES_TMPDIR' },
    ignoredVariables: ['ES_JAVA_OPTS'],
    securityOff: { 'xpack.security.enabled': 'false' },
    // Its server runs in the logs folder, where the stock relative paths already point.
    jvmOptions: (stock) => stock,
  },
  opensearch: {
    ...distribution('opensearch', 'org.opensearch', OPENSEARCH_VERSION),
    settingsFile: 'opensearch.yml',
    variables: { javaHome: 'OPENSEARCH_JAVA_HOME', pathConf: 'OPENSEARCH_PATH_CONF', tmpDir: 'OPENSEARCH_TMPDIR' },
    ignoredVariables: ['OPENSEARCH_JAVA_OPTS', 'OPENSEARCH_HOME'],
    // The integ-test zip has no security plugin, and OpenSearch refuses a setting no plugin declares.
    securityOff: {},
    // Its launcher runs in the distribution's folder (shared by every run, and root's as root), where
    // the stock options would put the GC log, crash files and heap dumps: they go to the run's logs.
    jvmOptions: (stock, logsDir) => stock.replaceAll('=logs/', `=${logsDir}/`).replace(/HeapDumpPath=data$/m, `HeapDumpPath=${logsDir}`),
  },
};
