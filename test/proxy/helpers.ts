// Shared pieces for the proxy suites: real upstream servers, a proxy started in-process from a
// real configuration, and the access-log files read back from disk.

import { scryptSync } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { accessRecordSchema, ACCESS_LOG_FILE_PATTERN, type AccessRecord } from '../../common/access-record.ts';
import type { Clock } from '../../proxy/auth/clock.ts';
import { parseConfig, type ProxyConfig } from '../../proxy/config.ts';
import { startProxy, type RunningProxy } from '../../proxy/server.ts';
import { waitFor } from '../helpers/wait.ts';

export interface Upstream {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  body: Buffer;
}

/** Default upstream: echoes what it received as JSON. */
export function echo(seen: SeenRequest, res: ServerResponse): void {
  const body = JSON.stringify({ method: seen.method, url: seen.url, headers: seen.headers, bodyLength: seen.body.length });
  res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' });
  res.end(body);
}

export async function startUpstream(handler: (seen: SeenRequest, res: ServerResponse, req: IncomingMessage) => void = echo): Promise<Upstream> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handler({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks) }, res, req));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export { freePort } from '../../ops/free-port.ts';

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `proxy-test-${prefix}-`));
}

export interface TestProxy {
  proxy: RunningProxy;
  config: ProxyConfig;
  url: string;
  logDir: string;
  stop(): Promise<void>;
}

/** Starts the proxy in this process; `json` is the configuration file's content (log dir filled in); `clock` a fake one to move time. */
export async function startTestProxy(json: Record<string, unknown>, logDir?: string, clock?: Clock): Promise<TestProxy> {
  const dir = logDir ?? (await tempDir('log'));
  const given = json as { access_log?: Record<string, unknown>; listen?: Record<string, unknown> };
  const config = parseConfig({ proxy_id: 'test-proxy', listen: { host: '127.0.0.1', port: 0 }, ...json, access_log: { dir, ...given.access_log } }, process.cwd());
  const proxy = await startProxy(config, pino({ level: 'silent' }), clock);
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  return { proxy, config, url: `http://${host}:${proxy.port}`, logDir: dir, stop: () => proxy.stop() };
}

export async function logFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((name) => ACCESS_LOG_FILE_PATTERN.test(name));
  return names.sort((a, b) => Number(ACCESS_LOG_FILE_PATTERN.exec(a)![1]) - Number(ACCESS_LOG_FILE_PATTERN.exec(b)![1])).map((name) => join(dir, name));
}

/** Every record line of every access-log file, each validated against the record schema; the trail's checkpoint lines are left out. */
export async function readRecords(dir: string): Promise<AccessRecord[]> {
  const records: AccessRecord[] = [];
  for (const file of await logFiles(dir)) {
    const text = await readFile(file, 'utf8');
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      const value = JSON.parse(line) as object;
      if (!('checkpoint' in value)) records.push(accessRecordSchema.parse(value));
    }
  }
  return records;
}

/** Waits until the log holds at least `count` records (the writer is asynchronous). */
export async function waitForRecords(dir: string, count: number, timeoutMs = 5_000): Promise<AccessRecord[]> {
  return await waitFor(`${count} access-log lines in ${dir}`, async () => {
    const records = await readRecords(dir);
    return records.length >= count && records;
  }, { timeoutMs });
}

/** Waits for the line of request `id` (its X-Request-Id), however many other lines the log holds. */
export async function waitForRecord(dir: string, id: string, timeoutMs = 5_000): Promise<AccessRecord> {
  return await waitFor(`the access-log line of request ${id}`, async () => (await readRecords(dir)).find((record) => record.id === id), { timeoutMs });
}

/** Waits until `condition` holds; fails naming `what` at the deadline. */
export async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  await waitFor(what, condition, { timeoutMs, intervalMs: 10 });
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export function serviceConfig(id: string, upstream: string, auth: Record<string, unknown> | Array<Record<string, unknown>> = { method: 'none' }, extra: Record<string, unknown> = {}) {
  return { id, hosts: [`${id}.test`], upstream, auth, ...extra };
}

/** A hash the proxy accepts, at the lowest cost it allows (ln=10), for suites that check many secrets. */
export function cheapSecretHash(secret: string): string {
  const salt = Buffer.from('0123456789abcdef');
  const key = scryptSync(secret, salt, 32, { N: 1024, r: 8, p: 1 });
  return `$scrypt$ln=10,r=8,p=1$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** A clock that stands still until moved. */
export function fakeClock(start = Date.now()): { clock: Clock; advance(ms: number): void } {
  let now = start;
  return { clock: () => now, advance: (ms) => (now += ms) };
}
