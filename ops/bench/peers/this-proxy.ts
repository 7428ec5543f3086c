// This project's proxy as a peer, started from a config file like an operator would: an open
// service (bench.test) and a password-protected one (secure.test), access log on or off (on: with
// the trail's signed checkpoints, as a compliance deployment runs it); and the session cookie of a
// real login, for the authenticated run.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { request } from 'undici';
import { hashSecret } from '../../../proxy/secret-hash.ts';
import type { ProxyPeer, RunningProxy } from './native-proxies.ts';
import { CPU_UNDER_TEST, start } from './processes.ts';
import { ProxyAccessLogError } from '../../../common/errors.ts';

const root = new URL('../../../', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const versionOf = (file: string) => (require(file) as { version: string }).version;
const version = versionOf('../../../package.json');
const undiciVersion = versionOf('undici/package.json');
const pinoVersion = versionOf('pino/package.json');
export const OPEN_HOST = 'bench.test';
export const SECURE_HOST = 'secure.test';
const PASSWORD = randomBytes(12).toString('base64url');
let passwordHash: string | undefined;

export class LoginError extends ProxyAccessLogError {
  readonly code = 'BENCH_LOGIN_FAILED';
}

/**
 * `nodeArgs`: options for the proxy's Node (a profile: --cpu-prof, --trace-gc). One worker is
 * pinned to the core under test; more are left to every core, the load generator's included
 * (what `workers` gives on a machine whose cores are all shared).
 */
export function thisProxy(accessLog: boolean, nodeArgs: readonly string[] = [], workers = 1): ProxyPeer {
  const name = `${accessLog ? 'this proxy, log on' : 'this proxy, log off'}${workers > 1 ? `, ${workers} workers` : ''}`;
  return {
    name,
    version: () => `proxy-access-log ${version} (Node ${process.versions.node}, undici ${undiciVersion}, pino ${pinoVersion})`,
    async start(dir: string, upstreamPort: number): Promise<RunningProxy> {
      passwordHash ??= await hashSecret(PASSWORD);
      const logDir = join(dir, `${accessLog ? 'this-proxy-logs-on' : 'this-proxy-logs-off'}-${workers}`);
      const upstream = `http://127.0.0.1:${upstreamPort}`;
      const signingKeyFile = join(dir, 'this-proxy-trail.key');
      if (accessLog) await writeFile(signingKeyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      const config = {
        proxy_id: `${accessLog ? 'bench-log-on' : 'bench-log-off'}-${workers}`,
        workers,
        listen: { host: '127.0.0.1', port: 0 },
        access_log: {
          enabled: accessLog,
          dir: logDir,
          rotation: { size: '1g', frequency: 'daily' },
          keep: 5,
          ...(accessLog ? { signing_key_file: signingKeyFile } : {}),
        },
        services: [
          { id: 'bench', hosts: [OPEN_HOST], upstream, auth: { method: 'none' } },
          { id: 'secure', hosts: [SECURE_HOST], upstream, auth: { method: 'password', hash: passwordHash, user_id: 'bench-user' } },
        ],
      };
      const file = join(dir, `${accessLog ? 'this-proxy-on' : 'this-proxy-off'}-${workers}.json`);
      await writeFile(file, JSON.stringify(config));
      const started = await start(name, process.execPath, [...nodeArgs, join(root, 'proxy/main.ts'), '--config', file], {
        cpus: workers === 1 ? CPU_UNDER_TEST : undefined,
        ready: /"port":(\d+)[^\n]*"msg":"proxy listening"/,
      });
      return { name, pid: started.pid, url: `http://127.0.0.1:${started.match![1]}`, accessLog: accessLog ? logDir : undefined };
    },
  };
}

/** Logs in to the password-protected service and returns the `Cookie` header value. */
export async function sessionCookie(proxyUrl: string): Promise<string> {
  const response = await request(`${proxyUrl}/.proxy/login`, {
    method: 'POST',
    headers: { host: SECURE_HOST, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ password: PASSWORD, return_to: '/' }).toString(),
  });
  await response.body.dump();
  const setCookie = response.headers['set-cookie'];
  const cookies = (Array.isArray(setCookie) ? setCookie : [setCookie]).filter((value): value is string => typeof value === 'string');
  if (response.statusCode !== 303 || cookies.length === 0) throw new LoginError(`login answered ${response.statusCode} without a session cookie`);
  return cookies.map((cookie) => cookie.split(';')[0]).join('; ');
}
