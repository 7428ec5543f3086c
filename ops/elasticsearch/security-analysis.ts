// API keys and native roles live in the `.security` system index, whose settings use three analysis
// components of Elasticsearch's analysis-common module: the `pattern_capture` and `unique` token
// filters and the `uax_url_email` tokenizer. The integ-test distribution leaves that module out and
// no other Maven artifact carries it, so without them the index cannot be created and a secured
// local cluster could not make a role or a key. The stable plugin in security-analysis/ provides the
// three from Lucene, in which they live; it is compiled here with the JDK that runs the nodes, into a
// copy of the distribution that only secured clusters use (the single node stays as it is).

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ELASTICSEARCH_VERSION } from './engines.ts';
import { ElasticsearchStartError } from './start-failure.ts';

const run = promisify(execFile);
const PLUGIN = 'security-index-analysis';
const SOURCE_DIR = join(import.meta.dirname, 'security-analysis');
const JAVA_RELEASE = '21';

async function sourceFiles(): Promise<string[]> {
  const entries = await readdir(join(SOURCE_DIR, 'src'), { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.name.endsWith('.java')).map((entry) => join(entry.parentPath, entry.name)).sort();
}

/** The distribution at `home` plus the plugin, built once per version of its sources beside `home`. */
export async function homeWithSecurityAnalysis(home: string, javaHome: string): Promise<string> {
  const sources = await sourceFiles();
  const hash = createHash('sha256');
  for (const file of [...sources, join(SOURCE_DIR, 'named_components.json')]) hash.update(await readFile(file));
  const target = join(dirname(home), `${basename(home)}-${PLUGIN}-${hash.digest('hex').slice(0, 12)}`);
  const pluginDir = join(target, 'plugins', PLUGIN);
  if (existsSync(join(pluginDir, 'named_components.json'))) return target;

  // Built beside the target under this process's own name and renamed, so a half-built copy is never
  // used and two starts building at once do not meet.
  const staging = `${target}.partial-${process.pid}`;
  const stagedPlugin = join(staging, 'plugins', PLUGIN);
  await rm(staging, { recursive: true, force: true });
  await cp(home, staging, { recursive: true });
  await mkdir(stagedPlugin, { recursive: true });
  const classes = join(staging, 'plugin-classes');
  try {
    await run(join(javaHome, 'bin', 'javac'), ['--release', JAVA_RELEASE, '-d', classes, '-cp', join(home, 'lib', '*'), ...sources]);
    await run(join(javaHome, 'bin', 'jar'), ['cf', join(stagedPlugin, `${PLUGIN}.jar`), '-C', classes, '.']);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw new ElasticsearchStartError(`could not build the ${PLUGIN} plugin a secured cluster needs: ${(error as { stderr?: string }).stderr || (error as Error).message}`);
  }
  await rm(classes, { recursive: true, force: true });
  await cp(join(SOURCE_DIR, 'named_components.json'), join(stagedPlugin, 'named_components.json'));
  await writeFile(
    join(stagedPlugin, 'stable-plugin-descriptor.properties'),
    [
      `name=${PLUGIN}`,
      'description=the analysis-common components the .security index uses, for the integ-test distribution',
      'version=1.0',
      `elasticsearch.version=${ELASTICSEARCH_VERSION}`,
      `java.version=${JAVA_RELEASE}`,
    ].join('\n') + '\n',
  );
  try {
    await rename(staging, target);
  } catch (error) {
    if (!existsSync(join(pluginDir, 'named_components.json'))) throw error;
    await rm(staging, { recursive: true, force: true });
  }
  return target;
}
