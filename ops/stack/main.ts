// `npm start [-- --engine opensearch]`: the whole stack on this machine. A local Elasticsearch or
// OpenSearch node (or the cluster named by ELASTICSEARCH_URL), a demo upstream, a demo OIDC issuer, an SMTP sink for magic links, then the API, the shipper and the
// proxy, each a child process whose diagnostics go to a file of its own. Ctrl-C, SIGINT or
// SIGTERM stops them all, last started first.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectionFromEnv, type ElasticsearchConnection } from '../../common/elasticsearch-connection.ts';
import { ENGINE_NAMES, ENGINES, isEngine, type Engine } from '../../common/search-engine.ts';
import { REPO_ROOT } from '../elasticsearch/distribution.ts';
import { portInUse } from '../free-port.ts';
import { startLocalNode, type LocalNode } from '../elasticsearch/local-node.ts';
import { persistentDataDir, serviceUser } from '../elasticsearch/run-as.ts';
import { writeStackFiles } from './configs.ts';
import { CALLBACK_PATH } from '../../proxy/auth/endpoints.ts';
import { SHIPPER_NODE_FLAGS } from '../../shipper/node-flags.ts';
import { DEMO_SSO_ALLOWED_GROUPS, DEMO_SSO_USERS } from '../oidc/demo-identities.ts';
import { DEMO_INDEX_PREFIX, DEMO_LINK_DOMAIN, DEMO_PASSWORD, DEMO_PIN, PORTS, SERVICES, STACK_DIR, STACK_STATE_FILE, type StackState } from './demo.ts';
import { Supervisor } from './supervisor.ts';

function refuse(message: string): never {
  console.error(`stack: ${message}`);
  process.exit(1);
}

/**
 * The cluster the stack writes to, with its engine always named so every part's config says it:
 * `--engine` (Elasticsearch when absent), or the cluster ELASTICSEARCH_URL names with the engine
 * ELASTICSEARCH_ENGINE or `--engine` gives it. Bad input exits 1 before anything starts.
 */
function chooseCluster(): { engine: Engine; named: ElasticsearchConnection | undefined } {
  let flag: string | undefined;
  let named: ElasticsearchConnection | undefined;
  try {
    flag = parseArgs({ options: { engine: { type: 'string' } } }).values.engine;
    named = connectionFromEnv();
  } catch (error) {
    refuse((error as Error).message);
  }
  if (flag !== undefined && !isEngine(flag)) refuse(`--engine: one of ${ENGINES.join(', ')}, not "${flag}"`);
  if (flag && named?.engine && named.engine !== flag) refuse(`--engine ${flag}: ELASTICSEARCH_ENGINE says ${named.engine}; give one of them, or the same engine in both`);
  const engine = flag ?? named?.engine ?? 'elasticsearch';
  return { engine, named: named && { ...named, engine } };
}

const { engine, named: namedCluster } = chooseCluster();
const engineName = ENGINE_NAMES[engine];
const script = (path: string) => join(REPO_ROOT, path);
const diagnosticsDir = join(STACK_DIR, 'diagnostics');
const supervisor = new Supervisor([engine, 'upstream', 'issuer', 'smtp', 'api', 'shipper', 'proxy'], diagnosticsDir);
const say = (line: string) => console.log(`${supervisor.label('stack')} ${line}`);

let localNode: LocalNode | undefined;
let nodeDataDir: string | undefined;
const starting = new AbortController();
let stopping: Promise<void> | undefined;

async function startStack(): Promise<void> {
  for (const [name, port] of Object.entries(PORTS)) {
    if (await portInUse(port)) throw new Error(`port ${port} (${name}) is already in use on 127.0.0.1: is another \`npm start\` running?`);
  }
  await mkdir(diagnosticsDir, { recursive: true });
  let elasticsearch = namedCluster;
  if (!elasticsearch) {
    const label = supervisor.label(engine);
    // One folder per engine: neither can read the other's data.
    nodeDataDir = persistentDataDir(join(STACK_DIR, `${engine}-data`), serviceUser());
    console.log(`${label} data in ${nodeDataDir}`);
    localNode = await startLocalNode({
      engine,
      dataDir: nodeDataDir,
      signal: starting.signal,
      log: (line) => console.log(`${label} ${line}`),
    });
    elasticsearch = { engine, url: localNode.url, request_timeout_ms: 10_000 };
  }
  const files = await writeStackFiles(elasticsearch);

  const proxyUrl = `http://127.0.0.1:${PORTS.proxy}`;
  const apiUrl = `http://127.0.0.1:${PORTS.api}`;
  const issuerUrl = `http://127.0.0.1:${PORTS.issuer}/`;
  await supervisor.start('upstream', script('ops/stack/demo-upstream.ts'), ['--port', String(PORTS.upstream)], `http://127.0.0.1:${PORTS.upstream}/`);
  const redirectUris = [SERVICES.dashboard.host, SERVICES.portal.host].flatMap((host) => ['--redirect-uri', `http://${host}:${PORTS.proxy}${CALLBACK_PATH}`]);
  await supervisor.start('issuer', script('ops/oidc/main.ts'), ['--port', String(PORTS.issuer), ...redirectUris], `${issuerUrl}.well-known/openid-configuration`);
  // SMTP speaks no HTTP to poll: the proxy connects only when a link is asked for, long after this.
  await supervisor.start('smtp', script('ops/stack/smtp-sink.ts'), ['--port', String(PORTS.smtp)]);
  await supervisor.start('api', script('api/main.ts'), ['--config', files.apiConfig], `${apiUrl}/healthz`);
  await supervisor.start('shipper', script('shipper/main.ts'), ['--config', files.shipperConfig], `http://127.0.0.1:${PORTS.shipperMetrics}/metrics`, SHIPPER_NODE_FLAGS);
  await supervisor.start('proxy', script('proxy/main.ts'), ['--config', files.proxyConfig], `${proxyUrl}/`);

  const state: StackState = { proxyUrl, apiUrl, issuerUrl, apiToken: files.apiToken, elasticsearchUrl: elasticsearch.url };
  await writeFile(STACK_STATE_FILE, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });

  const signInAs = (which: 'allowed' | 'refused') =>
    DEMO_SSO_USERS.filter((u) => u.groups?.some((g) => DEMO_SSO_ALLOWED_GROUPS.includes(g)) === (which === 'allowed')).map((u) => u.sub).join(', ');
  const at = (id: keyof typeof SERVICES) => `http://${SERVICES[id].host}:${PORTS.proxy}/`;
  console.log(`
The stack is up, on ${engineName}.

  Proxy            ${proxyUrl}   (access log in ${files.logsDir})
    ${at('public').padEnd(34)} no auth
    ${at('wiki').padEnd(34)} password: ${DEMO_PASSWORD}
    ${at('door').padEnd(34)} PIN: ${DEMO_PIN}
    ${at('dashboard').padEnd(34)} SSO: sign in as ${signInAs('allowed')} (${signInAs('refused')} not in ${DEMO_SSO_ALLOWED_GROUPS.join(', ')}: refused)
    ${at('portal').padEnd(34)} choose: password ${DEMO_PASSWORD}, a magic link for any @${DEMO_LINK_DOMAIN} address (printed here as "sign-in link for …"), or SSO
    ${at('legacy').padEnd(34)} upstream down: 502
    ${at('reports').padEnd(34)} slow upstream: /slow?ms=3000 is a 504
  Proxy Events page ${apiUrl}/   API token: ${files.apiToken}
  API               ${apiUrl}/api/events/proxy   (OpenAPI: ${apiUrl}/api/openapi.json)
  OIDC issuer       ${issuerUrl}   (demo: its sign-ins live in memory and end when it stops)
  ${engineName.padEnd(17)} ${elasticsearch.url}   (the demo writes only ${DEMO_INDEX_PREFIX}-*)
  Shipper metrics   http://127.0.0.1:${PORTS.shipperMetrics}/metrics
  SMTP sink         127.0.0.1:${PORTS.smtp}   (accepts the proxy's mail and keeps none; each link shows here)
  Diagnostics       ${diagnosticsDir}/<part>.log   (warnings and errors also show here)

Try:
  curl -s ${at('public')}hello
  curl -s -H 'Authorization: Bearer ${files.apiToken}' '${apiUrl}/api/events/proxy?page_size=5'
  npm run demo:traffic      # realistic traffic from many countries, so the page has something to show

Ctrl-C stops everything; the data stays for the next start.
`);
}

/**
 * Stops the stack once, however many signals arrive (Ctrl-C in a terminal reaches this process
 * both directly and through npm, which passes it on), and whenever they arrive: a start under way
 * is cut short and wound down before the rest stops, so no child outlives the stack.
 */
async function stop(code: number): Promise<never> {
  stopping ??= (async () => {
    say('stopping…');
    starting.abort();
    await supervisor.stopAll();
    await startup.catch(() => {});
    await localNode?.stop();
    const kept = nodeDataDir ? `${STACK_DIR} (${engineName}'s in ${nodeDataDir})` : STACK_DIR;
    say(`stopped. The data stays in ${kept} for the next start.`);
  })();
  await stopping;
  process.exit(code);
}

const startup = startStack();
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
startup.catch(async (error: Error) => {
  // A stop requested while starting makes the start fail on purpose; that stop reports itself.
  if (stopping) return;
  console.error(`${supervisor.label('stack')} failed to start: ${error.message}`);
  await stop(1);
});
