// `npm run bench:access-log-line [-- --lines N] [--rounds R]`: what one access-log line costs the
// proxy's thread, away from the network: the record serialised alone, then serialised and sealed
// into the trail (SHA-256 chain), then the whole write path of `access_log` with a signing key
// (serialise, seal, gather into 8 KiB appends, pino-roll's synchronous write to a real file).
// Nanoseconds per line, each stage's last round after the others warmed it. The difference
// between the proxy's CPU per request with the log on and off (`npm run bench:proxy`) is this
// plus the garbage it leaves and the kernel's time in the file writes.

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { openAccessLog, type RequestRecord } from '../../proxy/access-log.ts';
import { parseConfig } from '../../proxy/config.ts';
import { TrailChain } from '../../proxy/trail-chain.ts';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '500000' }, rounds: { type: 'string', default: '5' } } });
const lines = Number(values.lines);
const rounds = Number(values.rounds);
if (!Number.isInteger(lines) || lines < 1 || !Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write('usage: npm run bench:access-log-line -- [--lines N] [--rounds R]\n');
  process.exit(1);
}

/** Request ids vary as a proxy's do; the rest is a typical open-service request. */
const ids = Array.from({ length: 1024 }, () => randomUUID());
const time = new Date().toISOString();
const record = (i: number): RequestRecord => ({
  time,
  id: ids[i & 1023]!,
  service: 'bench',
  method: 'GET',
  host: 'bench.test',
  path: '/',
  status: 200,
  duration_ms: 1.234,
  source_ip: '127.0.0.1',
  auth_method: 'none',
  bytes_in: 0,
  bytes_out: 1024,
  user_agent: 'wrk-bench/1',
  protocol: 'http',
});

function nanosPerLine(write: (i: number) => void): number {
  let last = 0;
  for (let round = 0; round < rounds; round++) {
    const began = process.hrtime.bigint();
    for (let i = 0; i < lines; i++) write(i);
    last = Number(process.hrtime.bigint() - began) / lines;
  }
  return last;
}

const dir = await mkdtemp(join(tmpdir(), 'bench-access-log-line-'));
try {
  const keyFile = join(dir, 'trail.key');
  await writeFile(keyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const config = parseConfig(
    {
      proxy_id: 'bench',
      listen: { host: '127.0.0.1', port: 0 },
      access_log: { dir: join(dir, 'logs'), signing_key_file: keyFile, rotation: { size: '1g', frequency: 'daily' } },
      services: [{ id: 'bench', hosts: ['bench.test'], upstream: 'http://127.0.0.1:9', auth: { method: 'none' } }],
    },
    dir,
  );
  const log = await openAccessLog(config.access_log, config.proxy_id, pino({ level: 'silent' }));
  const chain = new TrailChain('bench', undefined, undefined);
  let sink = 0;
  const stages = {
    'serialise (JSON.stringify)': nanosPerLine((i) => (sink += JSON.stringify(record(i)).length)),
    'serialise and seal (SHA-256 chain)': nanosPerLine((i) => (sink += chain.seal(JSON.stringify(record(i)).slice(1)).length)),
    'whole write path to the file': nanosPerLine((i) => log.write(record(i))),
  };
  await log.close();
  for (const [stage, nanos] of Object.entries(stages)) console.log(`${stage.padEnd(36)} ${nanos.toFixed(0).padStart(6)} ns per line`);
  if (sink === 0) throw new Error('nothing was serialised');
} finally {
  await rm(dir, { recursive: true, force: true });
}
