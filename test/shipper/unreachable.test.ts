// Without a cluster to talk to, the shipper retries instead of failing: at start (the index
// template) and in the middle of its work (the bulk requests). It acknowledges nothing the cluster
// did not take, still stops cleanly (exit 0) on SIGTERM, and delivers everything once the
// cluster is back.

import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CHECKPOINT_FILE, loadCheckpoint } from '../../shipper/checkpoint.ts';
import { STOP_GRACE_MS } from '../../shipper/graceful-stop.ts';
import { accessLogName, appendRecords } from '../helpers/records.ts';
import { shipperWorkspace } from '../helpers/shipper-workspace.ts';
import { startTcpRelay } from '../helpers/tcp-relay.ts';
import { waitFor } from '../helpers/wait.ts';
import { duplicatedEventIds, scrapeMetrics, startShipper, waitForCount, type ShipperRun } from './shipper-process.ts';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** SIGTERM gives exit 0 within `boundMs` (plus a margin for a busy machine). */
async function stopsWithin(shipper: ShipperRun, boundMs: number): Promise<void> {
  const stopping = Date.now();
  assert.equal(await shipper.stop(), 0);
  const took = Date.now() - stopping;
  assert.ok(took < boundMs + 3_000, `stopped in ${took} ms`);
}

describe('shipper without a reachable cluster', () => {
  it('retries the template install at start, reads nothing meanwhile, and exits 0 on SIGTERM', async (t) => {
    const workspace = await shipperWorkspace('unreachable-start');
    t.after(() => workspace.remove());
    appendRecords(workspace.logs, 1, 0, 100);
    const connection = { url: `http://127.0.0.1:${await closedPort()}`, request_timeout_ms: 1_000 };
    const shipper = startShipper({ ...workspace.shipper(), connection });
    t.after(() => shipper.kill());
    const attempts = () => shipper.stderr().match(/could not install the index template/g)?.length ?? 0;
    await waitFor('a second attempt at the template', () => attempts() >= 2);
    // Nothing is in flight: the stop does not wait for a batch.
    await stopsWithin(shipper, 0);
    const checkpoint = await loadCheckpoint(join(workspace.state, CHECKPOINT_FILE));
    assert.deepEqual(Object.values(checkpoint.files).map((file) => file.offset).filter((offset) => offset > 0), [], 'nothing acknowledged');
  });

  it('retries the bulk while the cluster is away, moves no checkpoint meanwhile, and delivers every line once it is back', async (t) => {
    const workspace = await shipperWorkspace('unreachable');
    t.after(() => workspace.remove());
    const { es, logs, state } = workspace;
    const relay = await startTcpRelay(es.connection.url);
    t.after(() => relay.close());
    const options = { ...workspace.shipper(['--metrics-port', '0']), connection: { ...es.connection, url: relay.url, request_timeout_ms: 1_000 } };
    const logFile = join(logs, accessLogName(1));
    const acknowledged = async () => {
      const checkpoint = await loadCheckpoint(join(state, CHECKPOINT_FILE));
      return Object.values(checkpoint.files).reduce((sum, file) => sum + file.offset, 0);
    };

    appendRecords(logs, 1, 0, 50);
    const firstHalf = (await stat(logFile)).size;
    let shipper = startShipper(options);
    // A failed assertion must not leave a shipper running (the suite would wait for it).
    t.after(() => shipper.kill());
    await waitForCount(es.storage, es.prefix, 50);
    await waitFor('the checkpoint past the first 50 lines', async () => (await acknowledged()) === firstHalf);

    await relay.cut();
    appendRecords(logs, 1, 50, 100);
    const retrying = shipper;
    const metrics = await waitFor('the shipper to read the next 50 lines and retry their bulk request twice', async () => {
      const sample = await scrapeMetrics(retrying);
      return sample.shipper_lines_read_total === 100 && (sample.shipper_retries_total ?? 0) >= 2 && sample;
    });
    assert.equal(metrics.shipper_indexed_total, 50);
    assert.equal(await acknowledged(), firstHalf, 'the checkpoint stays where the cluster last answered');
    // The batch in flight gets the grace period, then is left to the next start.
    await stopsWithin(shipper, STOP_GRACE_MS);
    assert.equal(await acknowledged(), firstHalf, 'stopping acknowledges nothing either');

    await relay.restore();
    shipper = startShipper(options);
    try {
      assert.equal(await waitForCount(es.storage, es.prefix, 100), 100);
      await waitFor('the checkpoint at the end of the file', async () => (await acknowledged()) === (await stat(logFile)).size);
    } finally {
      assert.equal(await shipper.stop(), 0);
    }
    assert.deepEqual(await duplicatedEventIds(es.storage, es.prefix), []);
  });
});
