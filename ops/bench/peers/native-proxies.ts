// The Debian peers as an operator would set them up for this job: one worker or thread, keep-alive
// to the upstream, one JSON line per request appended to a file, bound to 127.0.0.1. Each gets its
// own config in the run's temp dir and runs in the foreground as our child, never as the system
// service.
//
// - nginx: `worker_processes 1`, `log_format … escape=json`, `access_log … buffer=8k flush=200ms`:
//   the same batching as this proxy's writer (8 KiB, 200 ms), so both risk the same 200 ms of
//   lines in a crash (nginx's default is a write per request). proxy_buffers raised to 16 x 8k so
//   a 64 KiB body stays in memory rather than going through a temp file.
// - HAProxy: `nbthread 1`. HAProxy logs through syslog; `log stdout format raw` writes each line to
//   its stdout, which is this file (a regular file never blocks, so nothing is dropped). The line
//   is a `log-format` JSON template, strings escaped with the `json` converter.
// - Caddy: `log { output file … format json }`, its structured access log (Go, GOMAXPROCS=1),
//   not rolled: at 100 MB Caddy would move the file aside and its lines would not be counted.

import { execFileSync } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../free-port.ts';
import { CPU_UNDER_TEST, start } from './processes.ts';

export interface RunningProxy {
  name: string;
  pid: number;
  url: string;
  /** The file its access log goes to, or undefined when it logs nothing. */
  accessLog: string | undefined;
}

export interface ProxyPeer {
  name: string;
  version(): string;
  start(dir: string, upstreamPort: number): Promise<RunningProxy>;
}

export function httpProbe(port: number): () => Promise<boolean> {
  return async () => {
    const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return true;
  };
}

function firstLine(command: string, args: string[]): string {
  const output = execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return output.trim().split('\n')[0]!;
}

const NGINX_LOG_FORMAT =
  '{"time":"$time_iso8601","id":"$request_id","method":"$request_method","host":"$host","path":"$uri",' +
  '"status":$status,"duration_ms":$request_time,"source_ip":"$remote_addr","bytes_in":$request_length,' +
  '"bytes_out":$bytes_sent,"user_agent":"$http_user_agent","proxy":"nginx"}';

/** One nginx worker in the foreground as our child, its pid, logs and temp files under `dir`; `http` goes inside the http block. */
export async function runNginx(name: string, dir: string, http: string, cpus: string): Promise<{ pid: number; port: number }> {
  await mkdir(join(dir, 'tmp'), { recursive: true });
  const port = await freePort();
  // As root nginx would run its worker as nobody, which cannot enter the run's private temp dir.
  const conf = `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  keepalive_requests 1000000;
${http.replaceAll('PORT', String(port))}
}
`;
  await writeFile(join(dir, 'nginx.conf'), conf);
  const started = await start(name, 'nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log')], { cpus, probe: httpProbe(port) });
  return { pid: started.pid, port };
}

export const nginx: ProxyPeer = {
  name: 'nginx',
  version: () => firstLine('sh', ['-c', 'nginx -v 2>&1']),
  async start(parent, upstreamPort) {
    const dir = join(parent, 'nginx');
    const accessLog = join(dir, 'access.log');
    const http = `  log_format bench_json escape=json '${NGINX_LOG_FORMAT}';
  access_log ${accessLog} bench_json buffer=8k flush=200ms;
  upstream bench { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:PORT;
    location / {
      proxy_pass http://bench;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Request-Id $request_id;
      proxy_buffers 16 8k;
    }
  }`;
    const started = await runNginx('nginx', dir, http, CPU_UNDER_TEST);
    return { name: 'nginx', pid: started.pid, url: `http://127.0.0.1:${started.port}`, accessLog };
  },
};

const HAPROXY_LOG_FORMAT =
  '{"time":"%[date,ltime(%Y-%m-%dT%H:%M:%S%z)]","id":"%ID","method":"%HM","host":"%[var(txn.host),json(utf8s)]",' +
  '"path":"%[var(txn.path),json(utf8s)]","status":%ST,"duration_ms":%Ta,"source_ip":"%ci","bytes_in":%U,"bytes_out":%B,' +
  '"user_agent":"%[var(txn.ua),json(utf8s)]","proxy":"haproxy"}';

export const haproxy: ProxyPeer = {
  name: 'HAProxy',
  version: () => firstLine('haproxy', ['-v']),
  async start(parent, upstreamPort) {
    const dir = join(parent, 'haproxy');
    await mkdir(dir, { recursive: true });
    const port = await freePort();
    const accessLog = join(dir, 'access.log');
    const conf = `global
  nbthread 1
  maxconn 8192
  log stdout format raw local0
defaults
  mode http
  log global
  option http-keep-alive
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  unique-id-format %{+X}o%ci%cp%fp%Ts%rt%pid
  log-format '${HAPROXY_LOG_FORMAT}'
frontend bench
  bind 127.0.0.1:${port}
  http-request set-var(txn.host) req.hdr(host)
  http-request set-var(txn.path) path
  http-request set-var(txn.ua) req.hdr(user-agent)
  http-request set-header X-Request-Id %[unique-id]
  default_backend upstream
backend upstream
  http-reuse always
  server upstream 127.0.0.1:${upstreamPort}
`;
    await writeFile(join(dir, 'haproxy.cfg'), conf);
    execFileSync('haproxy', ['-c', '-q', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const logFd = openSync(accessLog, 'a');
    try {
      const started = await start('haproxy', 'haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], {
        cpus: CPU_UNDER_TEST,
        stdout: logFd,
        probe: httpProbe(port),
      });
      return { name: 'HAProxy', pid: started.pid, url: `http://127.0.0.1:${port}`, accessLog };
    } finally {
      closeSync(logFd);
    }
  },
};

export const caddy: ProxyPeer = {
  name: 'Caddy',
  version: () => `caddy ${firstLine('caddy', ['version'])}`,
  async start(parent, upstreamPort) {
    const dir = join(parent, 'caddy');
    await mkdir(dir, { recursive: true });
    const port = await freePort();
    const accessLog = join(dir, 'access.log');
    const conf = `{
  admin off
  auto_https off
  storage file_system ${dir}/data
}
http://:${port} {
  bind 127.0.0.1
  log {
    output file ${accessLog} {
      roll_disabled
    }
    format json
  }
  reverse_proxy 127.0.0.1:${upstreamPort}
}
`;
    await writeFile(join(dir, 'Caddyfile'), conf);
    const env = { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir, GOMAXPROCS: '1' };
    const started = await start('caddy', 'caddy', ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], {
      cpus: CPU_UNDER_TEST,
      env,
      probe: httpProbe(port),
    });
    return { name: 'Caddy', pid: started.pid, url: `http://127.0.0.1:${port}`, accessLog };
  },
};
