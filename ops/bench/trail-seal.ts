// `node ops/bench/trail-seal.ts`: what the trail adds to writing one access-log line, in CPU time of
// this thread (so a busy machine slows it less than it slows req/s): a typical record serialised
// and gathered into 8 KiB batches as proxy/access-log.ts does, unchained (the line as it was before
// the trail) and sealed by TrailChain. Median of 7 rounds of 300,000 lines.

import { TrailChain } from '../../proxy/trail-chain.ts';
import type { RequestRecord } from '../../proxy/access-log.ts';

const LINES = 300_000;
const ROUNDS = 7;
const BATCH_BYTES = 8_192;

const record: RequestRecord = {
  time: new Date().toISOString(),
  id: '522f6759-35c3-4cdd-a508-bff539e7e95c',
  service: 'bench',
  method: 'GET',
  host: 'bench.test',
  path: '/some/path/of/typical/length',
  status: 200,
  duration_ms: 1.234,
  source_ip: '192.0.2.1',
  auth_method: 'none',
  bytes_in: 0,
  bytes_out: 13,
  user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  protocol: 'http',
};

/** CPU µs per line for building lines with `line` and handing 8 KiB batches on as bytes. */
function cpuPerLine(line: (body: string) => string): number {
  let pending = '';
  let written = 0;
  const start = process.cpuUsage();
  for (let i = 0; i < LINES; i++) {
    record.duration_ms = i / 1000;
    pending += line(JSON.stringify(record).slice(1));
    if (pending.length >= BATCH_BYTES) {
      written += Buffer.from(pending).length;
      pending = '';
    }
  }
  const used = process.cpuUsage(start);
  if (written === 0) throw new Error('nothing was written');
  return (used.user + used.system) / LINES;
}

const opening = '{"proxy":"bench",';
const chain = new TrailChain('bench', undefined, undefined);
const unchained: number[] = [];
const chained: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  unchained.push(cpuPerLine((body) => `${opening}${body}\n`));
  chained.push(cpuPerLine((body) => chain.seal(body)));
}
const median = (list: number[]) => list.toSorted((a, b) => a - b)[Math.floor(list.length / 2)]!;
const [plain, sealed] = [median(unchained), median(chained)];
console.log(`CPU per access-log line: ${plain.toFixed(2)} µs unchained, ${sealed.toFixed(2)} µs chained: the trail adds ${(sealed - plain).toFixed(2)} µs`);
