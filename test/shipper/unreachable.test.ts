// With no cluster to talk to, the shipper retries instead of failing, acknowledges nothing, and
// still stops cleanly (exit 0) on SIGTERM.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { appendRecords } from '../helpers/records.ts';
import { startShipper } from './shipper-process.ts';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('shipper without a reachable cluster', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shipper-unreachable-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('keeps retrying, moves no checkpoint, and exits 0 on SIGTERM', async () => {
    const logs = join(dir, 'logs');
    const state = join(dir, 'state');
    await mkdir(logs);
    appendRecords(logs, 1, 0, 100);
    const connection = { url: `http://127.0.0.1:${await closedPort()}`, request_timeout_ms: 1_000 };
    const shipper = startShipper({ logs, state, connection, prefix: 'unreachable' });
    const deadline = Date.now() + 20_000;
    while (!/retrying/.test(shipper.stderr()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.match(shipper.stderr(), /retrying/);
    const stopped = Date.now();
    assert.equal(await shipper.stop(), 0);
    assert.ok(Date.now() - stopped < 5_000, 'stops promptly');
    const checkpoint = await readFile(join(state, 'checkpoint.json'), 'utf8').catch(() => undefined);
    assert.ok(checkpoint === undefined || !/"offset":[1-9]/.test(checkpoint), 'nothing acknowledged');
  });
});
