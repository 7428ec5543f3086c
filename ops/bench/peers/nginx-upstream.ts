// The upstream every proxy benchmark forwards to: Debian's nginx with one worker and no access log,
// serving a fixed body from memory-cached files (1 KiB at any path, 64 KiB under /64k/), pinned
// beside the load generator. A Node upstream there costs about as much CPU per request as the
// proxies under test and capped the fastest of them; nginx answers in a fraction of that, so the
// proxy under test is the only bottleneck on its core.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runNginx } from './native-proxies.ts';
import { CPU_OTHERS } from './processes.ts';

export const SMALL_BODY_BYTES = 1024;
export const LARGE_BODY_BYTES = 64 * 1024;
/** Requests under this prefix get the large body. */
export const LARGE_BODY_PREFIX = '/64k/';

export interface Upstream {
  pid: number;
  port: number;
}

export async function startNginxUpstream(parent: string): Promise<Upstream> {
  const dir = join(parent, 'nginx-upstream');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'small.json'), `{"ok":true,"pad":"${'x'.repeat(SMALL_BODY_BYTES - 21)}"}\n`);
  await writeFile(join(dir, 'large.bin'), Buffer.alloc(LARGE_BODY_BYTES, 'x'));
  const http = `  access_log off;
  sendfile on;
  tcp_nopush on;
  etag off;
  open_file_cache max=16;
  keepalive_timeout 65s;
  server {
    listen 127.0.0.1:PORT;
    root ${dir};
    location ${LARGE_BODY_PREFIX} { default_type application/octet-stream; rewrite ^ /large.bin break; }
    location / { default_type application/json; rewrite ^ /small.json break; }
  }`;
  return await runNginx('nginx upstream', dir, http, CPU_OTHERS);
}
