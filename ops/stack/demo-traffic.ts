// `npm run demo:traffic`: realistic traffic through the demo proxy started by `npm start`, so the
// API and the page have something to show at once. Visitors come from public addresses in many
// countries (sent as a trusted load balancer's X-Forwarded-For), sign in with each method, get
// denied, rate-limited, hit a dead upstream, time out and give up. Bounded by count and time;
// every request goes to 127.0.0.1.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import geoip from 'geoip-lite';
import { Agent } from 'undici';
import { BrowserLikeClient, type Visitor } from './browser-like-client.ts';
import { DEMO_SSO_USERS } from '../oidc/demo-identities.ts';
import { DEMO_PASSWORD, DEMO_PIN, PORTS, SERVICES, STACK_STATE_FILE, type ServiceId, type StackState } from './demo.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '3000' },
    seconds: { type: 'string', default: '180' },
    concurrency: { type: 'string', default: '8' },
  },
});
const maxRequests = Number(values.requests);
const deadline = Date.now() + Number(values.seconds) * 1_000;
const concurrency = Number(values.concurrency);
for (const [name, value] of Object.entries({ requests: maxRequests, seconds: Number(values.seconds), concurrency })) {
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`--${name} must be a positive whole number`);
    process.exit(1);
  }
}

let state: StackState;
try {
  state = JSON.parse(readFileSync(STACK_STATE_FILE, 'utf8')) as StackState;
} catch (error) {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && !(error instanceof SyntaxError)) throw error;
  console.error(`no running stack found (${STACK_STATE_FILE}): start it first with npm start`);
  process.exit(1);
}

/** A deterministic generator, so two runs send the same mix. */
let seed = 0x5eed;
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/** Public addresses that geoip-lite places in a city: a crowd from many countries. */
function publicAddresses(count: number): string[] {
  const found = new Map<string, string>();
  for (let tries = 0; found.size < count && tries < 200_000; tries++) {
    const ip = [1 + Math.floor(random() * 222), Math.floor(random() * 256), Math.floor(random() * 256), 1 + Math.floor(random() * 254)].join('.');
    const geo = geoip.lookup(ip);
    if (!geo?.city || [...found.values()].filter((c) => c === geo.country).length >= 4) continue;
    found.set(ip, geo.country);
  }
  return [...found.keys()];
}

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0',
  'curl/8.5.0',
  'python-requests/2.32.3',
];
const PATHS = ['/', '/api/items', '/api/items/42', '/dashboard', '/docs/getting-started', '/download?bytes=20000', '/status/404', '/status/204'];

const agent = new Agent({ connections: concurrency * 2 });
const addresses = publicAddresses(60);
const url = (id: ServiceId, path = '/') => `http://${SERVICES[id].host}:${PORTS.proxy}${path}`;
let sent = 0;
const counts = new Map<string, number>();

async function browse(client: BrowserLikeClient, id: ServiceId, pages: number): Promise<void> {
  for (let i = 0; i < pages; i++) await client.send(url(id, pick(PATHS)));
}

/** Each scenario is one visitor's short session; the weights shape the mix. */
const SCENARIOS: [string, number, (client: BrowserLikeClient) => Promise<unknown>][] = [
  ['browse public service', 30, (c) => browse(c, 'public', 1 + Math.floor(random() * 4))],
  ['password sign-in', 14, async (c) => {
    const right = random() < 0.75;
    await c.follow(url('wiki', '/.proxy/login'), { form: { password: right ? DEMO_PASSWORD : 'hunter2', return_to: '/' } });
    if (right) await browse(c, 'wiki', 2 + Math.floor(random() * 3));
  }],
  ['PIN sign-in', 10, async (c) => {
    const right = random() < 0.7;
    await c.follow(url('door', '/.proxy/login'), { form: { pin: right ? DEMO_PIN : '0000', return_to: '/' } });
    if (right) await browse(c, 'door', 1 + Math.floor(random() * 2));
  }],
  ['PIN brute force', 2, async (c) => {
    for (let i = 0; i < 14; i++) await c.send(url('door', '/.proxy/login'), { form: { pin: String(1000 + i), return_to: '/' } });
  }],
  ['SSO sign-in', 10, async (c) => {
    const user = pick(DEMO_SSO_USERS);
    const start = await c.send(url('dashboard', '/'));
    if (!start.location) return;
    let reply = await c.follow(start.location);
    const interaction = /action="(\/interaction\/[\w-]+\/login)"/.exec(reply.body)?.[1];
    if (!interaction) return;
    reply = await c.follow(new URL(interaction, state.issuerUrl).href, { form: { login: user.sub } });
    if (reply.status < 400) await browse(c, 'dashboard', 2 + Math.floor(random() * 3));
  }],
  ['SSO without a session', 4, (c) => c.send(url('dashboard', '/d/overview'))],
  ['dead upstream', 6, (c) => browse(c, 'legacy', 1 + Math.floor(random() * 2))],
  ['slow upstream', 4, (c) => c.send(url('reports', random() < 0.5 ? '/slow?ms=3000' : '/slow?ms=150'))],
  ['unknown host', 2, (c) => c.send(`http://intranet.localhost:${PORTS.proxy}/admin`)],
  ['client gives up', 2, (c) => c.send(url('public', '/slow?ms=5000'), { signal: AbortSignal.timeout(300) }).catch(() => undefined)],
];
const totalWeight = SCENARIOS.reduce((sum, [, weight]) => sum + weight, 0);

function chooseScenario() {
  let roll = random() * totalWeight;
  for (const scenario of SCENARIOS) if ((roll -= scenario[1]) < 0) return scenario;
  return SCENARIOS[0]!;
}

async function worker(): Promise<void> {
  while (sent < maxRequests && Date.now() < deadline) {
    const visitor: Visitor = { ip: pick(addresses), userAgent: pick(USER_AGENTS) };
    const client = new BrowserLikeClient(visitor, state.proxyUrl, agent);
    const [name, , run] = chooseScenario();
    const before = client.requests;
    try {
      await run(client);
    } catch (error) {
      console.error(`${name}: ${(error as Error).message}`);
    }
    sent += client.requests - before;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
}

console.log(`sending up to ${maxRequests} requests (at most ${values.seconds} s) from ${addresses.length} addresses through ${state.proxyUrl}`);
const progress = setInterval(() => console.log(`${sent} requests sent`), 5_000);
await Promise.all(Array.from({ length: concurrency }, worker));
clearInterval(progress);
await agent.close();
console.log(`done: ${sent} requests in ${[...counts].map(([name, n]) => `${n}× ${name}`).join(', ')}`);
console.log(`see them: curl -s -H 'Authorization: Bearer ${state.apiToken}' '${state.apiUrl}/api/events/proxy?page_size=10'`);
console.log(`or open ${state.apiUrl}/ and sign in with the token above`);
