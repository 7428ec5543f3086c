// The Node peers (http-proxy, @fastify/http-proxy, the minimal undici proxy) as ProxyPeers: each a script under
// node-proxies/ run by this Node, pinned like every proxy under test.

import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ProxyPeer } from './native-proxies.ts';
import { CPU_UNDER_TEST, start } from './processes.ts';

const here = new URL('.', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const versionOf = (name: string) => (require(`${name}/package.json`) as { version: string }).version;

function nodePeer(name: string, script: string, packages: string[]): ProxyPeer {
  return {
    name,
    version: () => `${packages.map((item) => `${item} ${versionOf(item)}`).join(', ')} (Node ${process.versions.node})`,
    async start(dir, upstreamPort) {
      const accessLog = join(dir, `${script}.log`);
      const args = [join(here, 'node-proxies', `${script}.ts`), '--upstream', `http://127.0.0.1:${upstreamPort}`, '--log', accessLog];
      const started = await start(name, process.execPath, args, { cpus: CPU_UNDER_TEST, ready: /listening (\d+)/ });
      return { name, pid: started.pid, url: `http://127.0.0.1:${started.match![1]}`, accessLog };
    },
  };
}

export const httpProxyPeer = nodePeer('http-proxy', 'http-proxy', ['http-proxy', 'pino']);
export const fastifyPeer = nodePeer('@fastify/http-proxy', 'fastify-proxy', ['fastify', '@fastify/http-proxy', 'pino']);
export const undiciPeer = nodePeer('node:http + undici Pool.stream', 'undici-proxy', ['undici', 'pino']);
